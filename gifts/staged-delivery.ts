import { markHeldSends, type HeldSend } from '../db/gift-held-sends-repository.ts';
import { claimStaged, loadStaged, stagedDelivery, type ClaimedStaged } from '../db/gift-staged-sends-repository.ts';
import type { GiftRow } from '../db/gifts-repository.ts';
import type { SentResult } from '../db/notification-deliveries-repository.ts';
import { enqueueDeliveries } from '../notifications/notify.ts';
import { PermanentDeliveryError } from '../notifications/provider.ts';
import type { Providers } from '../notifications/providers/index.ts';
import type { HeldSendDeps } from './direct-delivery.ts';

/** A gift sent from its staged send; the rest of its record is read back from the stage when it is written. */
export interface StagedDelivered {
  staged: true;
  giftId: string;
  /** What the sender's "발송 완료" names. */
  gift: Pick<GiftRow, 'id' | 'sender_id' | 'product_name' | 'recipient_name'>;
  /** How the provider took the recipient's message, and when (all of the batch's messages were taken by then). */
  result: SentResult;
  at: Date;
}

/**
 * The critical path of a prepared burst (see gifts/stage.ts): one statement locks the batch's due
 * gifts and writes them SENT from their staged sends ({@link claimStaged}), the staged messages
 * go to the provider, and the transaction commits. Exactly once as with {@link sendHeld}: only the
 * transaction holding a gift's lock can write it, nothing is on record before the commit, and a
 * send that dies first leaves the gifts SCHEDULED (a retry sends the same message under the same
 * delivery id). A message that failed is written back as SENDING in the same transaction, with its
 * delivery row as retrying or failed, and goes on through the channel queue like any first attempt
 * that failed. Returns the gifts sent, and the ids it did not take, for the ordinary send.
 */
export async function sendStaged(deps: HeldSendDeps, ids: string[], options: { earlyToleranceMs: number }): Promise<{ delivered: StagedDelivered[]; rest: string[] }> {
  const { delivered, retry } = await deps.db.transaction(async (trx) => {
    const claimed = await claimStaged(trx, ids, options.earlyToleranceMs);
    if (claimed.length === 0) return { delivered: [] as StagedDelivered[], retry: [] as HeldSend[] };
    const outcomes = await Promise.all(claimed.map((c) => attemptStaged(deps.providers, c)));
    const at = new Date();
    const delivered: StagedDelivered[] = [];
    const failed: Array<{ giftId: string; error: Error; provider: string }> = [];
    for (const o of outcomes) {
      if ('result' in o) delivered.push({ staged: true, giftId: o.giftId, gift: o.gift, result: o.result, at });
      else failed.push(o);
    }
    if (failed.length === 0) return { delivered, retry: [] as HeldSend[] };
    // Rare: written back SENDING with the message as retrying or failed (see markHeldSends).
    const byId = new Map((await loadStaged(trx, failed.map((f) => f.giftId))).map((s) => [s.gift_id, s]));
    const sends: HeldSend[] = failed.map((f) => {
      const s = byId.get(f.giftId)!;
      return {
        giftId: f.giftId, code: s.code, linkToken: s.link_token, message: stagedDelivery(s),
        expiresAt: s.expires_at, remindD3At: s.remind_d3_at, remindD1At: s.remind_d1_at,
        outcome: { error: f.error.message, provider: f.provider, permanent: f.error instanceof PermanentDeliveryError },
      };
    });
    await markHeldSends(trx, sends, { from: 'SENT' });
    return { delivered, retry: sends.filter((s) => 'error' in s.outcome && !s.outcome.permanent) };
  });
  // After the commit, as in sendHeld: the channel queue retries what did not go out.
  await enqueueDeliveries(deps, retry.map((s) => s.message), { priorAttempts: 1 });
  const taken = new Set(delivered.map((d) => d.giftId));
  for (const s of retry) taken.add(s.giftId);
  return { delivered, rest: ids.filter((id) => !taken.has(id)) };
}

async function attemptStaged(providers: Providers, c: ClaimedStaged): Promise<{ giftId: string; gift: StagedDelivered['gift']; result: SentResult } | { giftId: string; error: Error; provider: string }> {
  const provider = providers[c.send.channel];
  try {
    const sent = await provider.send({ deliveryId: c.delivery_id, event: 'gift.received', recipient: c.send.recipient, message: c.send.message });
    return { giftId: c.id, gift: { id: c.id, sender_id: c.sender_id, product_name: c.product_name, recipient_name: c.recipient_name }, result: { id: c.delivery_id, attempts: 1, provider: provider.name, ...sent } };
  } catch (err) {
    return { giftId: c.id, error: err instanceof Error ? err : new Error(String(err)), provider: provider.name };
  }
}
