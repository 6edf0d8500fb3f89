import type { Knex } from 'knex';
import { recipientKey } from '../../domain/notifications/addressing.ts';
import { PermanentDeliveryError, type Channel, type NotificationProvider } from '../provider.ts';

/**
 * Development provider: "sends" by recording the message in Postgres (`dev_notifications`).
 * It is the default when no real provider is configured, so `npm start` works offline.
 * Recording is idempotent per delivery, like a provider that honours idempotency keys.
 */
export function createDevProvider(channel: Channel, db: Knex): NotificationProvider {
  return {
    channel,
    name: 'dev',
    async send({ deliveryId, event, recipient, message }) {
      const address = recipientKey(channel, recipient);
      if (!address) throw new PermanentDeliveryError(`recipient has no address for ${channel}`);
      await db('dev_notifications')
        .insert({ delivery_id: deliveryId, channel, address, event, title: message.title, body: message.body, data: JSON.stringify(message.data) })
        .onConflict('delivery_id')
        .ignore();
      return { providerMessageId: `dev-${deliveryId}` };
    },
  };
}
