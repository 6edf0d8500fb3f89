import type { Knex } from 'knex';
import { debit, refund, type LedgerOptions } from '../credits/ledger.ts';

/**
 * Gifts pay with credits: the price is debited when the gift is reserved and refunded in full
 * when it is cancelled, fails to deliver or expires unused. Every call runs in the caller's
 * transaction together with the gift's status change, and the ledger's unique reference
 * (`gift`, gift id) makes a repeated refund a no-op — so money moves exactly once even if two
 * sweeps race.
 */
const ref = (giftId: string) => ({ type: 'gift', id: giftId });

/** `options.welcome`: the grant a sender's first-ever account gets (CREDITS_WELCOME). */
export async function chargeGift(trx: Knex, gift: { id: string; sender_id: string; price: number; product_name: string }, options?: LedgerOptions): Promise<void> {
  await debit(trx, { userId: gift.sender_id, amount: gift.price, ref: ref(gift.id), memo: chargeMemo(gift) }, options);
}

export const chargeMemo = (gift: { product_name: string }) => `선물: ${gift.product_name}`;

export async function refundGift(trx: Knex, gift: { id: string; sender_id: string }): Promise<void> {
  // The account exists: the reservation debited it.
  await refund(trx, { userId: gift.sender_id, ref: ref(gift.id), memo: '선물 환불' });
}

export { InsufficientCreditsError } from '../credits/ledger.ts';
