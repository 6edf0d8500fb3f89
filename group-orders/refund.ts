import type { Knex } from 'knex';
import { refund, type LedgerOptions } from '../credits/ledger.ts';
import { groupOfOrder } from '../db/group-orders-repository.ts';
import { creditRef } from './deps.ts';

/**
 * A matched group's order was rejected by the restaurant or cancelled: both parties get back what
 * was captured. Run by the outbox relay for every such status change; the ledger's unique
 * (user, kind, reference) makes a repeat a no-op, and an order of no group changes nothing.
 */
export async function refundGroupOfOrder(db: Knex, orderId: string, options: LedgerOptions): Promise<boolean> {
  return db.transaction(async (trx) => {
    const group = await groupOfOrder(trx, orderId);
    if (!group?.joiner_id) return false;
    for (const userId of [group.creator_id, group.joiner_id]) {
      await refund(trx, { userId, ref: creditRef(group.id), memo: '공동주문 주문 취소 환불' }, options);
    }
    return true;
  });
}
