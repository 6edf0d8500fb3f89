import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
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
  // priorAttempts: attempts made before this job existed (see enqueueDeliveries).
  payload: z.object({ deliveryId: z.string().min(1), priorAttempts: z.number().int().min(0).max(10).optional() }),
  async handler({ deliveryId, priorAttempts = 0 }, ctx) {
    const channel = channelOfQueue(ctx.job.queue);
    if (!channel) throw new UnrecoverableError(`${ctx.job.queue} is not a notification queue`);
    const { providers, deliveries } = ctx.notifications;
    const provider = providers[channel];
    const row = await deliveries.load(deliveryId);
    if (!row) throw new UnrecoverableError(`no notification delivery ${deliveryId}`);
    if (row.status === 'sent') return { skipped: 'already sent', sentAt: row.sent_at };
    // What the message stands for may have changed since it was queued (a replayed dead letter
    // carrying the link of a gift refunded or passed on meanwhile): the owner of the event decides.
    const withdrawn = await ctx.notifications.guards[row.event]?.(row);
    if (withdrawn) {
      await deliveries.markUnsent({ id: deliveryId, attempts: priorAttempts + ctx.job.attemptsStarted, provider: provider.name, status: 'failed', error: `withdrawn before sending: ${withdrawn}` });
      ctx.logger.info({ deliveryId, event: row.event, channel, withdrawn }, 'notification withdrawn');
      return { withdrawn };
    }
    // attemptsStarted counts this attempt and any that died with a crashed worker.
    const attempt = { id: deliveryId, attempts: priorAttempts + ctx.job.attemptsStarted, provider: provider.name };
    try {
      if (!isNotificationEvent(row.event)) throw new PermanentDeliveryError(`unknown event ${row.event}`);
      const message = render(row.event, row.data);
      const result = await provider.send({ deliveryId, event: row.event, recipient: row.recipient, message });
      await deliveries.markSent({ ...attempt, ...result });
      // Kept small: BullMQ stores it in the job hash; the delivery row has the details.
      return { sent: attempt.attempts };
    } catch (err) {
      const permanent = err instanceof PermanentDeliveryError || err instanceof z.ZodError;
      const final = permanent || ctx.job.attemptsMade + 1 >= ctx.job.attempts;
      const error = (err as Error).message;
      await deliveries.markUnsent({ ...attempt, status: final ? 'failed' : 'retrying', error });
      ctx.logger.warn({ deliveryId, event: row.event, channel, provider: provider.name, attempt: attempt.attempts, permanent, final, err: error }, 'notification not sent');
      if (permanent) throw new UnrecoverableError(error);
      throw err;
    }
  },
});
