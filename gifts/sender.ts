import { unrecordedDeliveries } from '../db/gift-held-sends-repository.ts';
import { claimGifts, recordDeliveries } from '../db/gift-sends-repository.ts';
import type { GiftRow } from '../db/gifts-repository.ts';
import { generateGiftCodes } from '../domain/gifts/gift-code.ts';
import { newLinkTokens } from '../domain/gifts/link-token.ts';
import { giftValidity } from '../domain/gifts/validity.ts';
import { notifyMany } from '../notifications/notify.ts';
import type { Providers } from '../notifications/providers/index.ts';
import { createBatcher } from '../runtime/batcher.ts';
import { receivedNotice } from './deliver.ts';
import { recoverUnrecorded, sendHeld, tellSenders, writeRecords, type ToRecord, type Told } from './direct-delivery.ts';
import { createRecorder } from './recorder.ts';
import { sendStaged } from './staged-delivery.ts';
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
 * and record, and all of them finish late together (100,000 gifts: p99 185 s). A few at a time per
 * process keep Postgres and the event loop busy while the rest wait their turn, so the first
 * thousands go out in the first second and the minute drains in order. Four: a staged batch is
 * mostly waiting (its one statement, its commit's WAL flush), and with two at a time per process
 * the 100,000-gift instant used 0.7 of the two cores.
 */
const ROUNDS_IN_FLIGHT = 4;

/**
 * A gift SENT on record this long ago with no delivery row had its record lost with its process
 * (see direct-delivery.ts): any send of it writes the record. Sooner, a live process may still be
 * holding the record back behind the burst's sends (see recorder.ts), and only a retried job
 * (whose first run died or failed) writes it.
 */
const UNRECORDED_AFTER_MS = 90_000;

export type SendOutcome = { sent: true; deliveryId: string } | { skipped: string };

export interface GiftSender {
  /** One gift, from its own delayed job (jobId = gift id). */
  send(giftId: string, options?: { resume?: boolean }): Promise<SendOutcome>;
  /**
   * Many gifts due at one instant, from a burst batch job (see burst.ts). `resume`: a retry of a
   * job whose earlier run died or failed, which also writes the record its gifts may lack.
   */
  sendMany(giftIds: string[], options?: { resume?: boolean }): Promise<SendOutcome[]>;
}

/**
 * Sends due gifts exactly once. With the first attempt made here (GIFT_DIRECT_SEND, the default)
 * a send holds the gifts' row locks from before the provider is called until one statement has
 * written how each went (see direct-delivery.ts): a gift is written once at its instant, straight
 * from SCHEDULED to SENT (or SENDING when its message must be retried), and only the transaction
 * that holds its lock can write it, so a second job, a second worker or a racing cancel cannot
 * make a second send. The rest of its record (delivery row, history, the sender's notice) follows
 * once this process has no send waiting (see recorder.ts); a call returns when it is written. Without the first attempt here the claim is one conditional update,
 * SCHEDULED → SENDING, and the channel queue delivers (see settle.ts).
 *
 * A burst's batch jobs send from the sends staged at preparation (stage.ts, staged-delivery.ts):
 * one statement writes the batch's gifts SENT with what was drawn and rendered ahead, and only the
 * gifts it did not take go the way above.
 *
 * Concurrent single-gift jobs are group-committed (one claim per batch), and a claim also takes
 * up to {@link CLAIM_EXTRA} other gifts that are already due: at 00:00 the first jobs to run pull
 * the minute forward, and the later jobs find their gift sent and finish at once.
 */
export function createGiftSender(deps: GiftDeps, options: { providers?: Providers } = {}): GiftSender {
  const secrets = (n: number) => ({ codes: generateGiftCodes(n), tokens: newLinkTokens(n) });
  const turn = createTurns(ROUNDS_IN_FLIGHT);
  // With the first attempt made here (GIFT_DIRECT_SEND): the gift deps and the providers it calls.
  const held = deps.config.gifts.directSend && options.providers ? { ...deps, providers: options.providers } : undefined;
  // The record of what went out waits while this process has sends to make (see recorder.ts).
  const recorder = held
    ? createRecorder<ToRecord, Told>(
        { tell: (items) => tellSenders(held, items), write: (records) => writeRecords(held, records) },
        { idle: turn.idle, logger: deps.logger },
      )
    : undefined;

  const deliverAll = async (gifts: GiftRow[]): Promise<string[]> => {
    if (gifts.length === 0) return [];
    const now = new Date();
    const prepared = gifts.map((gift) => {
      const validity = giftValidity(gift.claimed_at ?? now, gift.validity_days, gift.time_zone, deps.config.gifts.reminderHour);
      return { gift, validity, notice: receivedNotice(deps.config, gift, validity.validUntil) };
    });
    const notices = prepared.map((p) => p.notice);
    const records = (ids: string[]) => prepared.map((p, i) => ({ giftId: p.gift.id, deliveryId: ids[i]!, ...p.validity }));
    const ids = (await notifyMany(deps, notices)).map((r) => r.deliveries[0]!.id);
    await recordDeliveries(deps.db, records(ids));
    return ids;
  };

  /** Claims `ids` (plus `extra` due ones), delivers what it claimed, and says what became of each id. */
  const claimAndDeliver = async (ids: string[], extra: number, resume = false, staged = false): Promise<SendOutcome[]> => {
    const { outcomes, recorded } = await turn(() => claimAndDeliverNow(ids, extra, resume, staged));
    // Outside the turn: the next batch's sends go first, this one's record when they are done.
    await recorded;
    return outcomes;
  };
  const claimAndDeliverNow = async (ids: string[], extra: number, resume: boolean, staged: boolean): Promise<{ outcomes: SendOutcome[]; recorded: Promise<void> }> => {
    let unique = [...new Set(ids)];
    const outcomes = new Map<string, SendOutcome>();
    let others = new Map<string, GiftRow>();
    let recorded = Promise.resolve();
    if (held) {
      // A prepared burst's gifts go from their staged sends (see stage.ts); the rest as before.
      const fromStage = staged ? await sendStaged(held, unique, { earlyToleranceMs: EARLY_TOLERANCE_MS }) : { delivered: [], rest: unique };
      for (const d of fromStage.delivered) outcomes.set(d.giftId, { sent: true, deliveryId: d.result.id });
      const rest = new Set(fromStage.rest);
      for (const id of unique) if (!rest.has(id) && !outcomes.has(id)) outcomes.set(id, { skipped: 'its first attempt failed; delivering through the channel queue' });
      unique = fromStage.rest;
      const locked = unique.length > 0 || extra > 0 ? await sendHeld(held, unique, { extra, earlyToleranceMs: EARLY_TOLERANCE_MS, secrets }) : { delivered: [], others };
      for (const d of locked.delivered) outcomes.set(d.giftId, { sent: true, deliveryId: d.message.id });
      others = locked.others;
      const lost = await unrecorded([...others.values()], resume);
      for (const d of lost) outcomes.set(d.giftId, { sent: true, deliveryId: d.message.id });
      recorded = recorder!.record([...fromStage.delivered, ...locked.delivered, ...lost]);
      // Awaited once the turn is over; a failure meanwhile must not go unhandled.
      recorded.catch(() => undefined);
    } else {
      const claim = await claimGifts(deps.db, unique, { extra, earlyToleranceMs: EARLY_TOLERANCE_MS, secrets });
      const delivered = await deliverAll(claim.claimed);
      claim.claimed.forEach((g, i) => outcomes.set(g.id, { sent: true, deliveryId: delivered[i]! }));
      others = claim.others;
    }
    // Claimed by an attempt that died before recording its delivery: finish it through the queue,
    // where the delivery row's id keeps a second message from going out.
    const abandoned = [...others.values()].filter((g) => g.status === 'SENDING' && !g.delivery_id && g.claimed_at && Date.now() - g.claimed_at.getTime() > ABANDONED_AFTER_MS);
    const resumed = await deliverAll(abandoned);
    abandoned.forEach((g, i) => outcomes.set(g.id, { sent: true, deliveryId: resumed[i]! }));
    return { outcomes: ids.map((id) => outcomes.get(id) ?? { skipped: whyNot(others.get(id)) }), recorded };
  };

  /** Gifts SENT without their record, whose process died before writing it (see {@link UNRECORDED_AFTER_MS}). */
  const unrecorded = async (gifts: GiftRow[], resume: boolean) => {
    const candidates = gifts.filter((g) => g.status !== 'SENDING' && g.delivery_id && g.sent_at && (resume || Date.now() - g.sent_at.getTime() > UNRECORDED_AFTER_MS));
    if (candidates.length === 0) return [];
    const missing = await unrecordedDeliveries(deps.db, candidates.map((g) => g.delivery_id!));
    return recoverUnrecorded(held!, candidates.filter((g) => missing.has(g.delivery_id!)));
  };

  const single = createBatcher((ids: string[]) => claimAndDeliver(ids, CLAIM_EXTRA), { maxSize: 500, maxWaitMs: 5 });
  return {
    // A retried job (its first run died or failed) goes on its own, writing the record its gift may lack.
    send: async (giftId, options) => (options?.resume ? (await claimAndDeliver([giftId], 0, true))[0]! : single(giftId)),
    // A batch job's gifts are its own: no extra, so concurrent batches never wait on each other's rows.
    // A first run uses the batch's staged sends; a retry (whose first run may have died half-way) sends the ordinary way.
    sendMany: (ids, options) => claimAndDeliver(ids, 0, options?.resume ?? false, !(options?.resume ?? false)),
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

/** Runs at most `n` of the given tasks at once, the others in the order they came; `idle` says whether none is running or waiting. */
function createTurns(n: number): (<T>(task: () => Promise<T>) => Promise<T>) & { idle: () => boolean } {
  let running = 0;
  const waiting: Array<() => void> = [];
  const turn = async <T>(task: () => Promise<T>): Promise<T> => {
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
  return Object.assign(turn, { idle: () => running === 0 && waiting.length === 0 });
}
