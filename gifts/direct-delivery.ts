import { lockDueGifts, recordHeldSends, type HeldSend } from '../db/gift-held-sends-repository.ts';
import type { GiftRow } from '../db/gifts-repository.ts';
import type { NewDelivery, SentResult } from '../db/notification-deliveries-repository.ts';
import { giftValidity } from '../domain/gifts/validity.ts';
import { render } from '../domain/notifications/templates.ts';
import { deliveryRows, enqueueDeliveries } from '../notifications/notify.ts';
import { PermanentDeliveryError } from '../notifications/provider.ts';
import type { Providers } from '../notifications/providers/index.ts';
import { receivedNotice, sentNotice } from './deliver.ts';
import type { GiftDeps } from './reserve.ts';

export interface HeldSendDeps extends GiftDeps {
  providers: Providers;
}

/**
 * The first attempt of a batch of gift messages, made by the gift worker itself instead of a
 * second BullMQ job per gift (at 00:00 that job and its reads were half of the work), inside one
 * transaction that holds the gifts' row locks:
 * 1. lock the due SCHEDULED gifts (no row version written; rows another send or a cancel holds
 *    are skipped);
 * 2. draw codes and link tokens, and hand each recipient's message to the provider, then each
 *    sender's "발송 완료" for the messages that went out;
 * 3. one statement writes it all (gifts SENT, or SENDING to be retried; history; the messages and
 *    notices as they ended), and the transaction commits.
 * So each gift is written once at its instant, where claiming it on record first and recording
 * its delivery after were two row versions of the gift and two of its delivery row.
 * Exactly once: until the commit nothing is on record, and a cancel waits for the lock and then
 * finds the gift SENT (or, if this send died, SCHEDULED, and wins). A send that dies before the
 * commit — before or after the provider call — leaves the gifts SCHEDULED: the batch's retry, its
 * fallback or the reconciler sends them again with the same delivery ids (derived from the
 * gift), which the provider sees as the same message, as when a notification job is retried after
 * the provider took it. A message that failed its first attempt is written as retrying and goes
 * on through the channel's queue with the attempts that remain (3 in all); a permanent failure is
 * written as failed, and the settle sweep refunds the gift.
 *
 * This attempt bypasses the channel queue's rate limiter: with a provider quota to respect, turn it
 * off (GIFT_DIRECT_SEND=false) and every message goes through the queue.
 */
export async function sendHeld(
  deps: HeldSendDeps,
  ids: string[],
  options: { extra: number; earlyToleranceMs: number; secrets: (n: number) => { codes: string[]; tokens: string[] } },
): Promise<{ sent: Map<string, string>; others: Map<string, GiftRow> }> {
  const { sends, others, queuedNotices } = await deps.db.transaction(async (trx) => {
    const { locked, others } = await lockDueGifts(trx, ids, options);
    if (locked.length === 0) return { sends: [] as HeldSend[], others, queuedNotices: [] as NewDelivery[] };
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
    const told = staged.filter((s) => sentById.has(s.message.id)).map((s) => ({ ...deliveryRows(sentNotice(s.gift))[0]!, giftId: s.gift.id }));
    const toldAttempt = await attemptAll(deps.providers, told);
    const toldById = new Map(toldAttempt.sent.map((r) => [r.id, r]));
    const queued = new Set(await recordHeldSends(trx, sends, told.map((n) => ({ ...n, result: toldById.get(n.id) }))));
    return { sends, others, queuedNotices: told.filter((n) => queued.has(n.id)) };
  });
  // After the commit: retries of what did not go out, and the notices whose first attempt failed
  // (should this process die first, the notification reconciler finds their rows).
  const retry = sends.filter((s) => 'error' in s.outcome && !s.outcome.permanent).map((s) => s.message);
  await enqueueDeliveries(deps, retry, { priorAttempts: 1 });
  await enqueueDeliveries(deps, queuedNotices);
  return { sent: new Map(sends.filter((s) => 'sent' in s.outcome).map((s) => [s.giftId, s.message.id])), others };
}

/** One provider call per row, side by side: what went out, and what did not and why. */
export async function attemptAll(providers: Providers, rows: ReadonlyArray<NewDelivery>): Promise<{ sent: SentResult[]; failed: Failure[] }> {
  const attempts = await Promise.all(rows.map((row) => attempt(providers, row)));
  return {
    sent: attempts.filter((a): a is { row: NewDelivery; sent: SentResult } => 'sent' in a).map((a) => a.sent),
    failed: attempts.filter((a): a is Failure => 'error' in a),
  };
}

export type Failure = { row: NewDelivery; error: Error; provider: string };

async function attempt(providers: Providers, row: NewDelivery): Promise<{ row: NewDelivery; sent: SentResult } | Failure> {
  const provider = providers[row.channel];
  try {
    // The data was checked when the row was built; rendering only fills the template.
    const message = render(row.event as Parameters<typeof render>[0], row.data);
    const result = await provider.send({ deliveryId: row.id, event: row.event, recipient: row.recipient, message });
    return { row, sent: { id: row.id, attempts: 1, provider: provider.name, ...result } };
  } catch (err) {
    return { row, error: err instanceof Error ? err : new Error(String(err)), provider: provider.name };
  }
}
