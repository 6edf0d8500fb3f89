import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import type { Logger } from '../runtime/logger.ts';
import type { Config } from '../runtime/config.ts';
import type { QueueSet } from '../runtime/queues.ts';
import { stageBurst } from './stage.ts';

export const GIFT_SEND_BATCH_JOB = 'gift.send-batch';

/** Gifts per batch job: one claim statement and one delivery batch each. */
const BATCH = 1_000;

/** How long one preparer holds an instant (staging 100,000 gifts takes several seconds of it). */
const LOCK_MS = 45_000;

/** Staging stops this long before the instant; the gifts not staged by then are sent the ordinary way. */
const STAGE_MARGIN_MS = 5_000;

/** How long after its instant each batch's fallback job fires, should the batch itself not. */
export const FALLBACK_MS = 30_000;

/**
 * Prepares the sending of a burst — many gifts due at one instant, like 00:00 on Valentine's Day
 * (seed 004: 자정 집중, 50배) — a little ahead of time, so that at the instant itself only the
 * sending is left:
 * - the gifts are cut into batches of {@link BATCH}, each one delayed job due at the instant, so
 *   the burst is a few hundred claims of a thousand gifts, not a hundred thousand single jobs
 *   competing for the same two cores as the sending;
 * - each batch has a fallback, a second batch job with the same gifts {@link FALLBACK_MS} after the
 *   instant: if a batch is lost, its gifts still go within the minute, and the claim being
 *   conditional, gifts sent by the batch make the fallback one cheap statement;
 * - the gifts' own delayed jobs are removed: left in place they would be a hundred thousand
 *   BullMQ jobs right after the instant (the whole of the raw baseline's work) just to find their
 *   gifts sent. The reconciler leaves a prepared instant's gifts alone until it is overdue by its
 *   grace, and then re-adds a job for any gift still SCHEDULED (see reconcile.ts).
 * - with the first attempt made by the gift worker (GIFT_DIRECT_SEND), each gift's send is staged
 *   first (stage.ts): code, link token, delivery id, validity and both messages, rendered, so that
 *   at the instant one statement per batch writes the gifts SENT and the provider gets the text.
 * Nothing is claimed ahead: a gift can still be cancelled until the instant. The batch job ids
 * name the instant, so running this again (or from two processes) adds nothing twice; the first
 * batch is added last and marks the instant as prepared.
 */
export async function prepareBursts(
  deps: { db: Knex; redis: Redis; queues: QueueSet; logger: Logger; config: Config },
  options: { horizonMs: number; minGifts: number; leadMs?: number },
): Promise<{ instants: number; gifts: number }> {
  const queue = deps.queues.get('gifts');
  const { rows: instants } = await deps.db.raw<{ rows: Array<{ send_at: Date; n: number }> }>(
    `SELECT send_at, count(*)::int AS n FROM gifts
      WHERE status = 'SCHEDULED' AND send_at > now() + (? * interval '1 millisecond') AND send_at <= now() + (? * interval '1 millisecond')
      GROUP BY send_at HAVING count(*) >= ? ORDER BY send_at`,
    [options.leadMs ?? 3_000, options.horizonMs, options.minGifts],
  );
  let gifts = 0;
  let prepared = 0;
  for (const { send_at } of instants) {
    const at = send_at.getTime();
    const jobId = (i: number) => (i === 0 ? preparedMarker(at) : `burst-${at}-${i}`);
    if ((await deps.redis.exists(queue.toKey(jobId(0)))) === 1) continue;
    // One preparer per instant at a time; should it die half-way, the next run after the lock
    // expires finishes the job (adding the same ids again is harmless).
    if ((await deps.redis.set(queue.toKey(`burst-lock-${at}`), '1', 'PX', LOCK_MS, 'NX')) !== 'OK') continue;
    const ids = (await deps.db('gifts').where({ status: 'SCHEDULED', send_at }).orderBy('id').select('id')).map((r: { id: string }) => r.id);
    const batches = Array.from({ length: Math.ceil(ids.length / BATCH) }, (_, i) => ({ i, giftIds: ids.slice(i * BATCH, (i + 1) * BATCH) }));
    const started = Date.now();
    const staged = deps.config.gifts.directSend ? await stageBurst(deps, ids, at, at - STAGE_MARGIN_MS) : 0;
    const add = (list: typeof batches, fallback = false) =>
      list.length === 0
        ? Promise.resolve()
        : queue.addBulk(
            list.map(({ i, giftIds }) => ({
              name: GIFT_SEND_BATCH_JOB,
              data: { giftIds, dueAt: at },
              opts: { jobId: fallback ? `${jobId(i)}-fallback` : jobId(i), delay: Math.max(0, at + (fallback ? FALLBACK_MS : 0) - Date.now()), attempts: 3, removeOnComplete: { age: 3_600 } },
            })),
          );
    await add(batches.slice(1));
    await add(batches, true);
    await removeOwnJobs(queue, ids);
    await add(batches.slice(0, 1));
    gifts += ids.length;
    prepared++;
    deps.logger.info({ at: send_at.toISOString(), gifts: ids.length, staged, batches: batches.length, tookMs: Date.now() - started, aheadMs: at - Date.now() }, 'gift burst prepared');
  }
  return { instants: prepared, gifts };
}

/** The id of the job that marks `at` as prepared (the first batch, added last). */
export function preparedMarker(at: number): string {
  return `burst-${at}-0`;
}

/** Removes each gift's own delayed job; one already running (or gone) is left as it is. */
async function removeOwnJobs(queue: ReturnType<QueueSet['get']>, ids: string[]): Promise<void> {
  // Thousands in flight: ioredis writes them out together, so this is a few round trips per chunk.
  for (let i = 0; i < ids.length; i += 5_000) {
    await Promise.all(ids.slice(i, i + 5_000).map((id) => queue.remove(id).catch(() => 0)));
  }
}
