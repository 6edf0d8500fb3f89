import { lockDueGifts, markHeldSends, recordDelivered, type DeliveredRecord, type DeliveredSend, type HeldSend } from '../db/gift-held-sends-repository.ts';
import { loadStaged, stagedDelivery } from '../db/gift-staged-sends-repository.ts';
import type { GiftRow } from '../db/gifts-repository.ts';
import type { NewDelivery, SentResult } from '../db/notification-deliveries-repository.ts';
import { giftValidity, lastValidDay } from '../domain/gifts/validity.ts';
import { render } from '../domain/notifications/templates.ts';
import { deliveryRows, enqueueDeliveries } from '../notifications/notify.ts';
import { PermanentDeliveryError, type RenderedMessage } from '../notifications/provider.ts';
import type { Providers } from '../notifications/providers/index.ts';
import { receivedNotice, sentNotice } from './deliver.ts';
import type { GiftDeps } from './reserve.ts';
import type { StagedDelivered } from './staged-delivery.ts';

export interface HeldSendDeps extends GiftDeps {
  providers: Providers;
}

/**
 * The first attempt of a batch of gift messages, made by the gift worker itself instead of a
 * second BullMQ job per gift (at 00:00 that job and its reads were half of the work), inside one
 * transaction that holds the gifts' row locks:
 * 1. lock the due SCHEDULED gifts (no row version written; rows another send or a cancel holds
 *    are skipped);
 * 2. draw codes and link tokens, and hand each recipient's message to the provider;
 * 3. one statement writes each gift SENT (or SENDING to be retried, with its message row), and the
 *    transaction commits.
 * That is the critical path of the midnight spike, and all of it: the sent messages' delivery
 * rows, their history steps and the senders' "발송 완료" are returned to be written by
 * {@link tellSenders} and {@link writeRecords} afterwards, which the sender defers while sends are waiting (see sender.ts).
 * Exactly once: until the commit nothing is on record, and a cancel waits for the lock and then
 * finds the gift SENT (or, if this send died, SCHEDULED, and wins). A send that dies before the
 * commit — before or after the provider call — leaves the gifts SCHEDULED: the batch's retry, its
 * fallback or the reconciler sends them again with the same delivery ids (derived from the
 * gift), which the provider sees as the same message, as when a notification job is retried after
 * the provider took it. A send that dies after the commit, before its record, leaves gifts SENT
 * with no delivery row: the batch's retry (a job that stalled or failed) writes their record
 * without sending them again (see {@link recoverUnrecorded}). A message that failed its first
 * attempt is written as retrying and goes on through the channel's queue with the attempts that
 * remain (3 in all); a permanent failure is written as failed, and the settle sweep refunds the gift.
 *
 * This attempt bypasses the channel queue's rate limiter: with a provider quota to respect, turn it
 * off (GIFT_DIRECT_SEND=false) and every message goes through the queue.
 */
export async function sendHeld(
  deps: HeldSendDeps,
  ids: string[],
  options: { extra: number; earlyToleranceMs: number; secrets: (n: number) => { codes: string[]; tokens: string[] } },
): Promise<{ delivered: DeliveredSend[]; others: Map<string, GiftRow> }> {
  const { sends, delivered, others } = await deps.db.transaction(async (trx) => {
    const { locked, others } = await lockDueGifts(trx, ids, options);
    if (locked.length === 0) return { sends: [] as HeldSend[], delivered: [] as DeliveredSend[], others };
    const claimedAt = new Date();
    const { codes, tokens } = options.secrets(locked.length);
    const staged = locked.map((row, i) => {
      const gift = { ...row, code: codes[i]!, link_token: tokens[i]!, claimed_at: claimedAt };
      const validity = giftValidity(claimedAt, gift.validity_days, gift.time_zone, deps.config.gifts.reminderHour);
      return { gift, validity, message: deliveryRows(receivedNotice(deps.config, gift, validity.validUntil))[0]! };
    });
    const attempt = await attemptAll(deps.providers, staged.map((s) => s.message));
    const sentById = new Map(attempt.sent.map((r) => [r.id, r]));
    const failedById = new Map(attempt.failed.map((f) => [f.row.id, f]));
    const sends: HeldSend[] = staged.map(({ gift, validity, message }) => {
      const sent = sentById.get(message.id);
      const failure = failedById.get(message.id);
      return {
        giftId: gift.id, code: gift.code, linkToken: gift.link_token, message, ...validity,
        outcome: sent ? { sent } : { error: failure!.error.message, provider: failure!.provider, permanent: failure!.error instanceof PermanentDeliveryError },
      };
    });
    const marked = await markHeldSends(trx, sends);
    const delivered: DeliveredSend[] = [];
    for (const { gift, message } of staged) {
      const on = marked.get(gift.id);
      if (on) delivered.push({ giftId: gift.id, ...on, message, result: sentById.get(message.id)!, gift });
    }
    return { sends, delivered, others };
  });
  // After the commit: retries of what did not go out (should this process die first, the
  // notification reconciler finds their rows).
  const retry = sends.filter((s) => 'error' in s.outcome && !s.outcome.permanent).map((s) => s.message);
  await enqueueDeliveries(deps, retry, { priorAttempts: 1 });
  return { delivered, others };
}

/** A gift whose record is still to be written: sent the ordinary way, or from its staged send. */
export type ToRecord = DeliveredSend | StagedDelivered;

/** A gift whose sender has been told (or whose notice is left to the push queue), its record still to write. */
export interface Told {
  item: ToRecord;
  notice: DeliveredRecord['notice'];
}

/**
 * The first half of the record of gifts already SENT (see {@link sendHeld} and sendStaged): the
 * senders' "발송 완료" handed to the provider, before the slower writing of the record
 * ({@link writeRecords}); seed 004 wants notifications within 30 s, and at 00:00 the record of a
 * whole burst takes longer than that. No database work: the notice names what the send had in
 * hand (the gift's id, sender, product and recipient names).
 */
export async function tellSenders(deps: HeldSendDeps, items: ToRecord[]): Promise<Told[]> {
  if (items.length === 0) return [];
  const notices = items.map((d) => deliveryRows(sentNotice(d.gift))[0]!);
  const told = await attemptAll(deps.providers, notices);
  const at = new Date();
  const toldById = new Map(told.sent.map((r) => [r.id, r]));
  return items.map((item, i) => ({ item, notice: { ...notices[i]!, result: toldById.get(notices[i]!.id), at } }));
}

/**
 * The second half: one statement writes the recipients' messages, the history steps and the
 * notices ({@link recordDelivered}); notices whose first attempt failed go on through the push
 * queue. A staged send's message and times are read back from its stage and its gift (one
 * statement per batch); a staged gift whose stage is gone was recorded by someone else (or is left
 * to the reconciler's sweep for missing records) and is dropped here.
 */
export async function writeRecords(deps: HeldSendDeps, told: Told[]): Promise<void> {
  if (told.length === 0) return;
  const staged = told.filter((t) => 'staged' in t.item).map((t) => t.item.giftId);
  const stages = new Map((await loadStaged(deps.db, staged)).map((s) => [s.gift_id, s]));
  const records: DeliveredRecord[] = [];
  for (const { item, notice } of told) {
    if (!('staged' in item)) {
      const { gift: _gift, ...send } = item;
      records.push({ ...send, notice });
      continue;
    }
    const s = stages.get(item.giftId);
    if (!s?.claimed_at || !s.sent_at) continue;
    records.push({ giftId: item.giftId, claimedAt: s.claimed_at, sentAt: s.sent_at, deliveredAt: item.at, message: stagedDelivery(s), result: item.result, notice });
  }
  const queued = new Set(await recordDelivered(deps.db, records));
  await enqueueDeliveries(deps, records.map((r) => r.notice).filter((n) => queued.has(n.id)));
}

/**
 * Gifts SENT on record whose record was never written (the send's process died between its commit
 * and its record): their messages went out — a gift is SENT only once the provider took its
 * message — so they are written as sent, with the provider's name for the channel and no message
 * id, and the senders are told. A gift handed on since (transferred) has a new delivery, and only
 * the rest of its record is missing; it is left as it is.
 */
export function recoverUnrecorded(deps: HeldSendDeps, gifts: GiftRow[]): DeliveredSend[] {
  return gifts
    .filter((g) => g.transfer_count === 0 && g.link_token && g.expires_at && g.sent_at && g.claimed_at)
    .map((gift) => {
      const message = deliveryRows(receivedNotice(deps.config, gift, lastValidDay(gift.expires_at!, gift.time_zone)))[0]!;
      return {
        giftId: gift.id, claimedAt: gift.claimed_at!, sentAt: gift.sent_at!, message,
        result: { id: message.id, attempts: 1, provider: deps.providers[message.channel].name, detail: { recovered: true } },
        gift,
      };
    })
    .filter((d) => d.message.id === gifts.find((g) => g.id === d.giftId)!.delivery_id);
}

/** One provider call per row, side by side: what went out, and what did not and why (`messages`: rendered already). */
export async function attemptAll(providers: Providers, rows: ReadonlyArray<NewDelivery>, messages: ReadonlyArray<RenderedMessage | undefined> = []): Promise<{ sent: SentResult[]; failed: Failure[] }> {
  const attempts = await Promise.all(rows.map((row, i) => attempt(providers, row, messages[i])));
  return {
    sent: attempts.filter((a): a is { row: NewDelivery; sent: SentResult } => 'sent' in a).map((a) => a.sent),
    failed: attempts.filter((a): a is Failure => 'error' in a),
  };
}

export type Failure = { row: NewDelivery; error: Error; provider: string };

async function attempt(providers: Providers, row: NewDelivery, rendered?: RenderedMessage): Promise<{ row: NewDelivery; sent: SentResult } | Failure> {
  const provider = providers[row.channel];
  try {
    // The data was checked when the row was built; rendering only fills the template.
    const message = rendered ?? render(row.event as Parameters<typeof render>[0], row.data);
    const result = await provider.send({ deliveryId: row.id, event: row.event, recipient: row.recipient, message });
    return { row, sent: { id: row.id, attempts: 1, provider: provider.name, ...result } };
  } catch (err) {
    return { row, error: err instanceof Error ? err : new Error(String(err)), provider: provider.name };
  }
}
