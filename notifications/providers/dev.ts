import { recipientKey } from '../../domain/notifications/addressing.ts';
import { PermanentDeliveryError, type Channel, type NotificationProvider } from '../provider.ts';

/**
 * Development provider: it sends nothing and returns the rendered message as the send's detail,
 * which the delivery record keeps in Postgres (`GET /v1/admin/notifications` shows it). It is the
 * default when no real provider is configured, so `npm start` works offline.
 */
export function createDevProvider(channel: Channel): NotificationProvider {
  return {
    channel,
    name: 'dev',
    async send({ deliveryId, recipient, message }) {
      const address = recipientKey(channel, recipient);
      if (!address) throw new PermanentDeliveryError(`recipient has no address for ${channel}`);
      return { providerMessageId: `dev-${deliveryId}`, detail: { address, title: message.title, body: message.body } };
    },
  };
}
