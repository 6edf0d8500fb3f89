import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { unrecordedSentGifts } from '../db/gift-held-sends-repository.ts';
import type { GiftRow } from '../db/gifts-repository.ts';
import type { QueueSet } from '../runtime/queues.ts';
import { preparedMarker } from './burst.ts';
import { scheduleSends } from './schedule.ts';

/**
 * A send's record is written within seconds, or after the burst's sends at worst (gifts/recorder.ts
 * holds it back at most 20 s), and a send job writes a missing one only once the send is 90 s old
 * (gifts/sender.ts): older than this, nobody is still about to write it.
 */
const UNRECORDED_AFTER_MS = 120_000;
/** How far back the reconciler looks for a missing record: far longer than any retry of a record takes. */
const UNRECORDED_WITHIN_MS = 3_600_000;

/**
 * Postgres is the schedule of record; Redis only holds a delayed job per gift. This makes sure
 * every gift that must be sent soon has one (seed 004: 장애 복구 후 놓친 예약 자동 처리):
 * - SCHEDULED gifts due within `lookaheadMs` whose job hash is gone (Redis lost its data, or the
 *   enqueue after the reservation failed) get their job again, still delayed to the send time,
 *   so a Redis loss before the due time costs no lateness at all;
 * - overdue SCHEDULED gifts whose job exists but has finished (failed for good, or ran early
 *   because the gift was moved) get a fresh one;
 * - SENDING gifts whose send was claimed but never recorded a delivery (the job vanished
 *   mid-send) get their job back; sending again is idempotent;
 * - SENT gifts whose record (delivery row, history, the sender's notice) is still missing
 *   `unrecordedAfterMs` after the send (every attempt at it failed, or its job was lost with Redis)
 *   get a send job, which finds the gift sent and writes the record without sending again
 *   (gifts/sender.ts `unrecorded`). Only sends of the last `unrecordedWithinMs` are looked at.
 * A job that exists and is delayed, waiting or active is left alone, so running this from
 * several processes or during a burst adds nothing twice. The gifts of a burst prepared ahead
 * have no job of their own (their batches send them, see burst.ts): they are left alone until
 * they are overdue by the grace, and then get their job back if still SCHEDULED.
 */
export async function reconcileSends(deps: { db: Knex; redis: Redis; queues: QueueSet }, options: { lookaheadMs: number; graceMs: number; stuckAfterMs: number; unrecordedAfterMs?: number; unrecordedWithinMs?: number; limit?: number }, now = new Date()): Promise<{ readded: number }> {
  const limit = options.limit ?? 20_000;
  const queue = deps.queues.get('gifts');
  const candidates = await deps.db<GiftRow>('gifts')
    .where((q) => q.where({ status: 'SCHEDULED' }).where('send_at', '<=', new Date(now.getTime() + options.lookaheadMs)))
    .orWhere((q) => q.where({ status: 'SENDING' }).whereNull('delivery_id').where('claimed_at', '<=', new Date(now.getTime() - options.stuckAfterMs)))
    .orderBy('send_at')
    .limit(limit)
    .select<Array<Pick<GiftRow, 'id' | 'send_at' | 'status'>>>('id', 'send_at', 'status');
  const unrecordedAfter = now.getTime() - (options.unrecordedAfterMs ?? UNRECORDED_AFTER_MS);
  candidates.push(...(await unrecordedSentGifts(deps.db, { from: new Date(unrecordedAfter - (options.unrecordedWithinMs ?? UNRECORDED_WITHIN_MS)), to: new Date(unrecordedAfter), limit })));
  if (candidates.length === 0) return { readded: 0 };
  // One pipelined EXISTS per candidate: cheap even when a whole midnight's gifts are in view.
  const pipeline = deps.redis.pipeline();
  for (const g of candidates) pipeline.exists(queue.toKey(g.id));
  const exists = ((await pipeline.exec()) ?? []).map(([, n]: [Error | null, unknown]) => n === 1);
  const missing = await notCoveredByBurst(deps.redis, queue, candidates.filter((_, i) => !exists[i]), now.getTime() - options.graceMs);
  // A job that exists for a gift overdue by more than the grace is probably finished without
  // sending; overdue by less, it is just queued behind a burst and is not worth asking about.
  const suspicious = candidates.filter((g, i) => exists[i] && (g.status !== 'SCHEDULED' || g.send_at.getTime() <= now.getTime() - options.graceMs));
  for (let i = 0; i < suspicious.length; i += 500) {
    const chunk = suspicious.slice(i, i + 500);
    const states = await Promise.all(chunk.map((g) => queue.getJobState(g.id)));
    for (const [j, state] of states.entries()) {
      if (state !== 'completed' && state !== 'failed') continue;
      await queue.remove(chunk[j]!.id).catch(() => 0);
      missing.push(chunk[j]!);
    }
  }
  await scheduleSends(deps.queues, missing, now.getTime());
  return { readded: missing.length };
}


/** Drops SCHEDULED gifts of a prepared burst (its marker batch exists) not yet overdue by the grace. */
async function notCoveredByBurst<G extends Pick<GiftRow, 'status' | 'send_at'>>(redis: Redis, queue: ReturnType<QueueSet['get']>, gifts: G[], overdueBefore: number): Promise<G[]> {
  const instants = [...new Set(gifts.filter((g) => g.status === 'SCHEDULED' && g.send_at.getTime() > overdueBefore).map((g) => g.send_at.getTime()))];
  if (instants.length === 0) return gifts;
  const pipeline = redis.pipeline();
  for (const at of instants) pipeline.exists(queue.toKey(preparedMarker(at)));
  const results = (await pipeline.exec()) ?? [];
  const prepared = new Set(instants.filter((_, i) => results[i]?.[1] === 1));
  return gifts.filter((g) => !(g.status === 'SCHEDULED' && g.send_at.getTime() > overdueBefore && prepared.has(g.send_at.getTime())));
}
