import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { claimDelivery, markSent, markUnsent } from '../db/notification-deliveries-repository.ts';
import { isNotificationEvent } from '../domain/notifications/events.ts';
import { render } from '../domain/notifications/templates.ts';
import { channelOfQueue, NOTIFICATION_QUEUES } from '../notifications/channel-queues.ts';
import { PermanentDeliveryError } from '../notifications/provider.ts';
import { defineJob } from './job-definition.ts';

/**
 * Sends one delivery through its channel's provider. A delivery already sent is skipped, so a
 * duplicate job or a replay never sends twice. A permanent provider error fails the job at once;
 * anything else is retried with backoff, and after the last attempt the job stays failed as a
 * dead letter with the delivery row saying why.
 */
export const notificationSend = defineJob({
  name: 'notification.send',
  queue: NOTIFICATION_QUEUES,
  payload: z.object({ deliveryId: z.string().min(1) }),
  async handler({ deliveryId }, ctx) {
    const channel = channelOfQueue(ctx.job.queue);
    if (!channel) throw new UnrecoverableError(`${ctx.job.queue} is not a notification queue`);
    const provider = ctx.providers[channel];
    const claim = await claimDelivery(ctx.db, deliveryId, provider.name);
    if (claim.kind === 'missing') throw new UnrecoverableError(`no notification delivery ${deliveryId}`);
    if (claim.kind === 'already-sent') return { skipped: 'already sent', sentAt: claim.row.sent_at };
    const { row } = claim;
    const log = ctx.logger.child({ deliveryId, event: row.event, channel: row.channel, provider: provider.name });
    try {
      if (!isNotificationEvent(row.event)) throw new PermanentDeliveryError(`unknown event ${row.event}`);
      const message = render(row.event, row.data);
      const result = await provider.send({ deliveryId, event: row.event, recipient: row.recipient, message });
      await markSent(ctx.db, deliveryId, result);
      log.debug({ attempt: row.attempts }, 'notification sent');
      return { sent: true, attempt: row.attempts, providerMessageId: result.providerMessageId };
    } catch (err) {
      const permanent = err instanceof PermanentDeliveryError || err instanceof z.ZodError;
      const final = permanent || ctx.job.attemptsMade + 1 >= ctx.job.attempts;
      const reason = (err as Error).message;
      await markUnsent(ctx.db, deliveryId, final ? 'failed' : 'retrying', reason);
      log.warn({ attempt: row.attempts, permanent, final, err: reason }, 'notification not sent');
      if (permanent) throw new UnrecoverableError(reason);
      throw err;
    }
  },
});
