import { claimGifts, recordDeliveries, recordDirectSends } from '../db/gift-sends-repository.ts';
import type { GiftRow } from '../db/gifts-repository.ts';
import { generateGiftCodes } from '../domain/gifts/gift-code.ts';
import { newLinkTokens } from '../domain/gifts/link-token.ts';
import { giftValidity } from '../domain/gifts/validity.ts';
import { deliveryRows, enqueueDeliveries, notifyMany } from '../notifications/notify.ts';
import type { Providers } from '../notifications/providers/index.ts';
import { createBatcher } from '../runtime/batcher.ts';
import { receivedNotice, sentNotice } from './deliver.ts';
import { attemptAll, deliverDirectly } from './direct-delivery.ts';
import type { GiftDeps } from './reserve.ts';

/** A job may fire this much before the send time on record (clock skew between hosts). */
const EARLY_TOLERANCE_MS = 5_000;

/** Extra due gifts one claim of single-gift jobs may take besides its own (see {@link GiftSender}). */
const CLAIM_EXTRA = 500;

/**
 * Gifts claimed recently by someone else are being delivered by them; older ones were abandoned
 * (their sender died mid-way). Generous: at 00:00 a batch can take tens of seconds from claim
 * to record on a busy machine, and resuming it early only doubles the work (never the message).
 */
const ABANDONED_AFTER_MS = 120_000;

/**
 * Claim-and-deliver rounds one process runs at once. At 00:00 a hundred batch jobs start
 * together; run all at once on two cores, each holds its thousand rows through its claim, send
 * and record, and all of them finish late together (100,000 gifts: p99 185 s). Two at a time per
 * process keep Postgres and the event loop busy while the rest wait their turn, so the first
 * thousands go out in the first second and the minute drains in order.
 */
const ROUNDS_IN_FLIGHT = 2;

export type SendOutcome = { sent: true; deliveryId: string } | { skipped: string };

export interface GiftSender {
  /** One gift, from its own delayed job (jobId = gift id). */
  send(giftId: string): Promise<SendOutcome>;
  /** Many gifts due at one instant, from a burst batch job (see burst.ts). */
  sendMany(giftIds: string[]): Promise<SendOutcome[]>;
}

/**
 * Sends due gifts exactly once. The claim is one conditional update, SCHEDULED → SENDING, that
 * also draws the gifticon code and the link token; only the caller whose update matched sends,
 * so a second job, a second worker or a racing cancel cannot make a second send. The message
 * then goes out (see direct-delivery.ts); when it went out at once the same statement that records
 * it makes the gift SENT and writes its sender's "발송 완료", otherwise its delivery row later says
 * SENT or, after three failed attempts, FAILED_REFUNDED (see settle.ts).
 *
 * Concurrent single-gift jobs are group-committed (one claim statement per batch), and a claim
 * also takes up to {@link CLAIM_EXTRA} other gifts that are already due: at 00:00 the first jobs
 * to run pull the minute forward, and the later jobs find their gift claimed and finish at once.
 */
export function createGiftSender(deps: GiftDeps, options: { providers?: Providers } = {}): GiftSender {
  const secrets = (n: number) => ({ codes: generateGiftCodes(n), tokens: newLinkTokens(n) });
  const turn = createTurns(ROUNDS_IN_FLIGHT);
  const direct = deps.config.gifts.directSend && options.providers ? options.providers : undefined;

  const deliverAll = async (gifts: GiftRow[], mode: 'direct' | 'queued'): Promise<string[]> => {
    if (gifts.length === 0) return [];
    const now = new Date();
    const prepared = gifts.map((gift) => {
      const validity = giftValidity(gift.claimed_at ?? now, gift.validity_days, gift.time_zone, deps.config.gifts.reminderHour);
      return { gift, validity, notice: receivedNotice(deps.config, gift, validity.validUntil) };
    });
    const notices = prepared.map((p) => p.notice);
    const records = (ids: string[]) => prepared.map((p, i) => ({ giftId: p.gift.id, deliveryId: ids[i]!, ...p.validity }));
    if (direct && mode === 'direct') {
      // Delivery ids are known before sending (a hash of the notice), so the gifts are recorded
      // in the same statement that marks their messages sent. The gifts whose message went out
      // become SENT there too, and their senders' "발송 완료" is sent first and written there as
      // sent, so the sender hears when the recipient does, not after the burst (seed 004 asks
      // notifications within 30 s). Should that statement fail after the sends, the gifts are
      // resumed as after a crash (ABANDONED_AFTER_MS), and the settle sweep may then tell a
      // sender a second time.
      const rows = notices.map((n) => deliveryRows(n)[0]!);
      const ids = rows.map((r) => r.id);
      await deliverDirectly({ ...deps, providers: direct }, rows, async (sent) => {
        const out = new Set(sent.map((r) => r.id));
        const told = prepared.filter((_, i) => out.has(ids[i]!)).map((p) => ({ ...deliveryRows(sentNotice(p.gift))[0]!, giftId: p.gift.id }));
        const attempt = await attemptAll(direct, told);
        const results = new Map(attempt.sent.map((r) => [r.id, r]));
        const queued = new Set(await recordDirectSends(deps.db, sent, records(ids).map((r) => ({ ...r, sent: out.has(r.deliveryId) })), told.map((n) => ({ ...n, result: results.get(n.id) }))));
        await enqueueDeliveries(deps, told.filter((n) => queued.has(n.id)));
      });
      return ids;
    }
    const ids = (await notifyMany(deps, notices)).map((r) => r.deliveries[0]!.id);
    await recordDeliveries(deps.db, records(ids));
    return ids;
  };

  /** Claims `ids` (plus `extra` due ones), delivers what it claimed, and says what became of each id. */
  const claimAndDeliver = (ids: string[], extra: number): Promise<SendOutcome[]> => turn(() => claimAndDeliverNow(ids, extra));
  const claimAndDeliverNow = async (ids: string[], extra: number): Promise<SendOutcome[]> => {
    const unique = [...new Set(ids)];
    const { claimed, others } = await claimGifts(deps.db, unique, { extra, earlyToleranceMs: EARLY_TOLERANCE_MS, secrets });
    const outcomes = new Map<string, SendOutcome>();
    const delivered = await deliverAll(claimed, 'direct');
    claimed.forEach((g, i) => outcomes.set(g.id, { sent: true, deliveryId: delivered[i]! }));
    // Claimed by an attempt that died before recording its delivery: finish it through the queue,
    // where the delivery row's id keeps a second message from going out.
    const abandoned = [...others.values()].filter((g) => g.status === 'SENDING' && !g.delivery_id && g.claimed_at && Date.now() - g.claimed_at.getTime() > ABANDONED_AFTER_MS);
    const resumed = await deliverAll(abandoned, 'queued');
    abandoned.forEach((g, i) => outcomes.set(g.id, { sent: true, deliveryId: resumed[i]! }));
    return ids.map((id) => outcomes.get(id) ?? { skipped: whyNot(others.get(id)) });
  };

  const single = createBatcher((ids: string[]) => claimAndDeliver(ids, CLAIM_EXTRA), { maxSize: 500, maxWaitMs: 5 });
  return {
    send: single,
    // A batch job's gifts are its own: no extra, so concurrent batches never wait on each other's rows.
    sendMany: (ids) => claimAndDeliver(ids, 0),
  };
}

function whyNot(gift: GiftRow | undefined): string {
  if (!gift) return 'no such gift';
  // A job fired early (its gift was moved later meanwhile): the reconciler adds the right one.
  if (gift.status === 'SCHEDULED' && gift.send_at.getTime() > Date.now() + EARLY_TOLERANCE_MS) return `not due until ${gift.send_at.toISOString()}`;
  // Due, but held at that moment by another claim or a cancel (see claimGifts).
  if (gift.status === 'SCHEDULED') return 'held by a concurrent claim or change';
  if (gift.status === 'SENDING') return gift.delivery_id ? 'delivered with another batch' : 'being delivered with another batch';
  return `already ${gift.status}`;
}

/** Runs at most `n` of the given tasks at once, the others in the order they came. */
function createTurns(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
