import { createHash } from 'node:crypto';
import { z } from 'zod';
import { drainOutbox } from '../db/orders-repository.ts';
import { notificationsFor, type StatusChange } from '../domain/orders/status-notifications.ts';
import { TERMINAL } from '../domain/orders/state-machine.ts';
import { deliveryRows, enqueueDeliveries, type NotifyInput } from '../notifications/notify.ts';
import { NOTIFY_TOPIC, STATUS_TOPIC } from '../orders/outbox-messages.ts';
import { refundGroupOfOrder } from '../group-orders/refund.ts';
import { dispatchesStarted, firstMatchJobId } from '../dispatch/start-dispatch.ts';
import { withdrawForCancelledOrder } from '../dispatch/accept.ts';
import { defineJob, type JobContext } from './job-definition.ts';

/**
 * Turns committed outbox rows into notifications, tracking updates and dispatch. A batch's
 * notification deliveries are recorded in the statement that deletes its rows, and enqueued after
 * it: a crash before that statement repeats the batch (same idempotency keys, nothing twice), a
 * crash after it leaves recorded deliveries that the notifications reconciler enqueues. Kicked
 * after every commit (orders/relay-kicker.ts), and by a scheduler every few seconds as a safety
 * net. Different orders' changes are delivered side by side; one order's in order.
 */
/**
 * Orders relayed side by side within one batch. Each change is a few Redis round trips (the
 * tracking view, the rider's status) and almost never a Postgres statement (a group order's
 * refund), so lanes cost Redis commands, which auto-pipelining sends together, not pool
 * connections. With 8 lanes and batches of 100, one relay drained ~60 changes a second on the
 * shared box while a hot spot's changes committed ~190: its backlog grew for the whole run.
 */
const RELAY_LANES = 32;

export const ordersOutboxRelay = defineJob({
  name: 'orders.outbox-relay',
  queue: 'orders',
  payload: z.object({ batch: z.number().int().min(1).max(5_000).default(500) }),
  options: { attempts: 5, removeOnComplete: { count: 100 }, removeOnFail: { count: 1_000 } },
  async handler({ batch }, ctx) {
    let relayed = 0;
    for (;;) {
      const { drained, recorded } = await drainOutbox(ctx.db, batch, async (messages) => {
        const byOrder = new Map<string, StatusChange[]>();
        // Every notification of the batch goes out together at its end: its delivery records are
        // written with the outbox delete, then one enqueue per channel, not a pair per
        // notification (at a hot spot, a batch holds hundreds of status changes).
        const notifications: NotifyInput[] = [];
        for (const message of messages) {
          if (message.topic === NOTIFY_TOPIC) {
            notifications.push(message.payload as unknown as NotifyInput);
            continue;
          }
          if (message.topic !== STATUS_TOPIC) continue;
          const change = message.payload as unknown as StatusChange;
          byOrder.set(change.orderId, [...(byOrder.get(change.orderId) ?? []), change]);
        }
        // Accepted orders whose dispatch the API already started (dispatch/start-dispatch.ts) are
        // not started again: one read for the batch.
        const started = await dispatchesStarted(ctx.db, [...byOrder.values()].flat().filter((c) => c.to === 'COOKING').map((c) => c.orderId));
        // A few lanes, not one per order: the dispatch pool shares this process's connections.
        const orders = [...byOrder.values()];
        await Promise.all(
          Array.from({ length: Math.min(RELAY_LANES, orders.length) }, async () => {
            for (let changes = orders.shift(); changes; changes = orders.shift()) {
              for (const change of changes) notifications.push(...(await relay(change, ctx, started)));
            }
          }),
        );
        // The batch's delivered orders are archived by one job, a few seconds from now: the last
        // fixes before the tap may still be on their way to history.
        const delivered = [...new Set(messages.filter((m) => m.topic === STATUS_TOPIC && (m.payload as unknown as StatusChange).to === 'DELIVERED').map((m) => (m.payload as unknown as StatusChange).orderId))];
        if (delivered.length > 0) {
          // Named by the orders it covers: a batch relayed again after a crash adds nothing new.
          const jobId = `archive-${createHash('sha1').update([...delivered].sort().join(',')).digest('hex')}`;
          await ctx.queues.get('orders').add('orders.archive-route', { orderIds: delivered }, { jobId, delay: 5_000 });
        }
        // Checked before anything is written: a bad notification fails the batch, which is retried.
        return notifications.flatMap(deliveryRows);
      });
      if (recorded.length > 0) await enqueueDeliveries(ctx, recorded);
      relayed += drained;
      if (drained < batch) return { relayed };
    }
  },
});

/** Applies one change to tracking, the rider and dispatch; returns the notifications it calls for. */
async function relay(change: StatusChange, ctx: JobContext, dispatchStarted: ReadonlySet<string>): Promise<NotifyInput[]> {
  await ctx.tracking.applyStatus(change);
  // A finished order frees its rider for the next one, unless the rider went offline meanwhile: their
  // own choice stands (a rider who signs off on the way and then delivers must not be offered work).
  if (change.riderId && TERMINAL.has(change.to)) await ctx.location.freeIfBusy(change.riderId, Date.now());
  // A group's order that will not be delivered gives both parties their shares back.
  if (change.to === 'REJECTED' || change.to === 'CANCELLED') await refundGroupOfOrder(ctx.db, change.orderId, ctx.config.credits);
  // Cancelled while dispatch was still looking: the rider considering its offer is told and freed.
  const withdrawn = change.to === 'CANCELLED' && !change.riderId ? await withdrawForCancelledOrder(ctx, change.orderId) : [];
  // The restaurant accepted: start looking for a rider while the food cooks, unless the API's
  // direct start did (the same job id makes an enqueue of a job still queued or running a no-op).
  if (change.to === 'COOKING' && !dispatchStarted.has(change.orderId)) {
    await ctx.queues.get('dispatch').add('dispatch.match', { orderId: change.orderId, near: change.restaurant }, { jobId: firstMatchJobId(change.orderId) });
  }
  return [
    ...notificationsFor(change).map((planned) => ({
      event: planned.event,
      recipient: { userId: planned.userId },
      channels: ['push' as const],
      data: planned.data as never,
      idempotencyKey: `order:${change.orderId}:v${change.version}`,
    })),
    ...withdrawn.map((w) => ({
      event: 'dispatch.offer_withdrawn' as const,
      recipient: { userId: w.riderId },
      channels: ['push' as const],
      data: { offerId: w.offerId, orderId: change.orderId } as never,
      idempotencyKey: `offer-withdrawn:${w.offerId}`,
    })),
  ];
}
