import type { Knex } from 'knex';
import { insertPaidGift, insertPaidGifts, type PaidGift } from '../db/gift-reservations-repository.ts';
import type { GiftRow } from '../db/gifts-repository.ts';
import { enqueueDeliveries } from '../notifications/notify.ts';
import { createBatcher } from '../runtime/batcher.ts';
import { createGroupCommit } from '../runtime/group-commit.ts';
import type { QueueSet } from '../runtime/queues.ts';
import type { Config } from '../runtime/config.ts';
import { scheduleSends } from './schedule.ts';

export interface ReservationWriter {
  /** The reservation's paid write (see insertPaidGift): the gift, or undefined for the ledger's own path. */
  write(item: PaidGift): Promise<GiftRow | undefined>;
  /** The delayed send job, added with the others of the same moment. */
  schedule(gift: { id: string; send_at: Date }): Promise<void>;
  /** The sender's confirmation job, added with the others of the same moment. */
  confirm(row: { id: string; channel: 'push' }): Promise<void>;
}

/**
 * Reservations group-committed, as orders are (runtime/group-commit.ts): at 200/s the API had one
 * statement and one commit (an fsync) per reservation, and reservations of the same sender queued
 * on the account's row lock behind each other's commits; the tail was that queue. Concurrent
 * reservations now go as one statement while at most two are in flight, and their BullMQ adds as
 * one addBulk each. Each request still gets its own answer: a sender without an account or
 * without enough credits takes the ledger's path alone, a second reservation of a sender already
 * in the batch is written on its own right after it (one debit per account per statement), and a
 * batch that fails (a reused Idempotency-Key, a lock conflict) is written again one by one, so the
 * error lands on the request that caused it.
 */
export function createReservationWriter(db: Knex, queues: QueueSet, config: Config): ReservationWriter {
  const write = createGroupCommit(
    async (items: PaidGift[]): Promise<Array<{ gift?: GiftRow; error?: unknown }>> => {
      const senders = new Set<string>();
      const first = items.map((x) => (senders.has(x.gift.sender_id) ? false : (senders.add(x.gift.sender_id), true)));
      const out: Array<{ gift?: GiftRow; error?: unknown }> = items.map(() => ({}));
      const alone = async (i: number) => {
        try {
          out[i] = { gift: await insertPaidGift(db, items[i]!.gift, { memo: items[i]!.memo }, items[i]!.confirmation) };
        } catch (error) {
          out[i] = { error };
        }
      };
      const batch = items.map((_, i) => i).filter((i) => first[i]);
      if (batch.length === 1) await alone(batch[0]!);
      else {
        try {
          const gifts = await insertPaidGifts(db, batch.map((i) => items[i]!));
          batch.forEach((i, k) => (out[i] = { gift: gifts[k] }));
        } catch {
          for (const i of batch) await alone(i);
        }
      }
      for (const i of items.keys()) if (!first[i]) await alone(i);
      return out;
    },
    { maxInFlight: 2, maxSize: 100 },
  );
  const schedule = createBatcher(
    async (gifts: Array<{ id: string; send_at: Date }>) => {
      await scheduleSends(queues, gifts);
      return gifts.map(() => undefined);
    },
    { maxWaitMs: 0 },
  );
  const confirm = createBatcher(
    async (rows: Array<{ id: string; channel: 'push' }>) => {
      await enqueueDeliveries({ queues, config }, rows);
      return rows.map(() => undefined);
    },
    { maxWaitMs: 0 },
  );
  return {
    async write(item) {
      const { gift, error } = await write(item);
      if (error) throw error;
      return gift;
    },
    schedule,
    confirm,
  };
}
