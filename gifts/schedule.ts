import type { QueueSet } from '../runtime/queues.ts';

/** The delayed job that sends one gift; its id is the gift's id, so a gift has at most one. */
export const GIFT_SEND_JOB = 'gift.send';

/**
 * Adds the send job, due at `sendAt`. Adding an id that already exists changes nothing, which is
 * what makes the reconciler's re-adds harmless.
 */
export async function scheduleSend(queues: QueueSet, gift: { id: string; send_at: Date }, now = Date.now()): Promise<void> {
  await queues.get('gifts').add(GIFT_SEND_JOB, { giftId: gift.id }, { jobId: gift.id, delay: Math.max(0, gift.send_at.getTime() - now) });
}

export async function scheduleSends(queues: QueueSet, gifts: ReadonlyArray<{ id: string; send_at: Date }>, now = Date.now()): Promise<void> {
  if (gifts.length === 0) return;
  await queues.get('gifts').addBulk(gifts.map((g) => ({ name: GIFT_SEND_JOB, data: { giftId: g.id }, opts: { jobId: g.id, delay: Math.max(0, g.send_at.getTime() - now) } })));
}

/**
 * Drops a gift's pending send job (after a cancel or before a reschedule). A job that is already
 * running cannot be removed; that is fine, because sending claims the gift conditionally and a
 * cancelled or moved gift is not claimed.
 */
export async function unscheduleSend(queues: QueueSet, giftId: string): Promise<void> {
  const job = await queues.get('gifts').getJob(giftId);
  if (!job) return;
  await job.remove().catch(() => {});
}

/** Moves a gift's send job to its new time: remove, then add under the same id. */
export async function rescheduleSend(queues: QueueSet, gift: { id: string; send_at: Date }): Promise<void> {
  await unscheduleSend(queues, gift.id);
  await scheduleSend(queues, gift);
}
