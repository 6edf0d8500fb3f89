import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { getGiftProduct } from '../db/gift-products-repository.ts';
import type { GiftProduct } from '../domain/gifts/product-catalogue.ts';
import { findGiftByIdempotencyKey } from '../db/gift-reservations-repository.ts';
import { insertGift, type GiftChannel, type GiftRow, type NewGift } from '../db/gifts-repository.ts';
import { checkSendWindow, describeSendTime, resolveSendTime, type SendTimeKind } from '../domain/gifts/send-time.ts';
import { deliveryRows, notify, type NotifyInput } from '../notifications/notify.ts';
import type { Config } from '../runtime/config.ts';
import type { Logger } from '../runtime/logger.ts';
import type { QueueSet } from '../runtime/queues.ts';
import { missingAddress, type GiftRecipientInput } from './gift-input.ts';
import { chargeGift, chargeMemo, InsufficientCreditsError } from './payments.ts';
import { createReservationWriter, type ReservationWriter } from './reservation-writer.ts';

export interface GiftDeps {
  db: Knex;
  queues: QueueSet;
  config: Config;
  logger: Logger;
}

export interface ReserveInput {
  senderId: string;
  senderName?: string;
  productId: string;
  recipient: GiftRecipientInput;
  channel: GiftChannel;
  message: string;
  sendAt: string;
  timeZone: string;
  /** The client's Idempotency-Key: a retry with the same key and request gets the same gift. */
  idempotencyKey?: string;
}

export type ReserveResult =
  | { kind: 'created'; gift: GiftRow; sendTimeKind: SendTimeKind }
  /** The same Idempotency-Key and the same request: the gift made the first time, paid once. */
  | { kind: 'replayed'; gift: GiftRow }
  /** The same Idempotency-Key with a different request. */
  | { kind: 'key-reused'; giftId: string }
  | { kind: 'invalid'; path: string; message: string }
  | { kind: 'insufficient'; available: number; required: number };

/**
 * Reserves a gift: checks product, address and send window, then writes the gift and debits the
 * sender atomically — usually in one statement (see insertPaidGift), otherwise in one
 * transaction through the ledger. The delayed send job and the sender's confirmation follow the
 * commit; if Redis is unreachable at that moment the gift is still safe, because Postgres is the
 * schedule of record and the reconciler adds any missing job (and the notification reconciler
 * any missing notification).
 */
export async function reserveGift(deps: GiftDeps, input: ReserveInput, now = new Date()): Promise<ReserveResult> {
  const key = input.idempotencyKey;
  const requestHash = key ? reservationHash(input) : null;
  const [product, earlier] = await Promise.all([productOf(deps, input.productId), key ? findGiftByIdempotencyKey(deps.db, input.senderId, key) : undefined]);
  if (earlier) return answerRetry(earlier, requestHash);
  if (!product) return { kind: 'invalid', path: 'productId', message: `no gift product ${input.productId}` };
  const missing = missingAddress(input.channel, input.recipient);
  if (missing) return { kind: 'invalid', ...missing };
  const time = resolveSendTime(input.sendAt, input.timeZone);
  if (!time.ok) return { kind: 'invalid', path: time.path, message: time.message };
  const window = checkSendWindow(time.value.at, now, deps.config.gifts.minLeadMs);
  if (!window.ok) return { kind: 'invalid', path: 'sendAt', message: window.message };

  const row: NewGift = {
    id: randomUUID(),
    sender_id: input.senderId,
    sender_name: input.senderName ?? input.senderId,
    product_id: product.id,
    product_name: `${product.brand} ${product.name}`,
    price: product.price,
    validity_days: product.validityDays,
    recipient_name: input.recipient.name,
    recipient_phone: input.recipient.phone ?? null,
    recipient_kakao_id: input.recipient.kakaoId ?? null,
    recipient_email: input.recipient.email ?? null,
    channel: input.channel,
    message: input.message,
    send_at: time.value.at,
    send_local: time.value.local,
    time_zone: time.value.timeZone,
    idempotency_key: key ?? null,
    request_hash: requestHash,
  };
  const confirmation = reservedNotice(row);
  const [confirmationRow] = deliveryRows(confirmation);
  let gift: GiftRow | undefined;
  let confirmationWritten = true;
  try {
    gift = await writerOf(deps).write({ gift: row as NewGift & { idempotency_key: string | null; request_hash: string | null }, memo: chargeMemo(row), confirmation: confirmationRow! });
    if (!gift) {
      // No account yet, or not enough credits: the ledger's own path decides (welcome grant, shortfall).
      confirmationWritten = false;
      gift = await deps.db.transaction(async (trx) => {
        const inserted = await insertGift(trx, row);
        await chargeGift(trx, inserted, { welcome: deps.config.credits.welcome });
        return inserted;
      });
    }
  } catch (err) {
    if (err instanceof InsufficientCreditsError) return { kind: 'insufficient', available: err.available, required: err.required };
    // Two retries with one key raced: the loser answers with the winner's gift (debited once).
    if ((err as { code?: string }).code === '23505' && key) {
      const winner = await findGiftByIdempotencyKey(deps.db, input.senderId, key);
      if (winner) return answerRetry(winner, requestHash);
    }
    throw err;
  }
  const created = gift;
  // Independent of each other, so the caller waits for the slower one, not both in turn.
  await Promise.all([
    afterCommit(deps, created, 'schedule', () => writerOf(deps).schedule(created)),
    afterCommit(deps, created, 'confirm', () => (confirmationWritten ? writerOf(deps).confirm({ id: confirmationRow!.id, channel: 'push' }) : notify(deps, confirmation))),
  ]);
  return { kind: 'created', gift: created, sendTimeKind: time.value.kind };
}

/** The sender's "예약 확인". */
function reservedNotice(gift: Pick<GiftRow, 'id' | 'sender_id' | 'product_name' | 'recipient_name' | 'send_at' | 'time_zone'>): NotifyInput<'gift.reserved'> {
  return {
    event: 'gift.reserved',
    recipient: { userId: gift.sender_id },
    channels: ['push'],
    data: { giftId: gift.id, productName: gift.product_name, recipientName: gift.recipient_name, sendAt: describeSendTime(gift.send_at, gift.time_zone) },
    idempotencyKey: `gift:${gift.id}:reserved`,
  };
}

function answerRetry(earlier: GiftRow, requestHash: string | null): ReserveResult {
  return earlier.request_hash === requestHash ? { kind: 'replayed', gift: earlier } : { kind: 'key-reused', giftId: earlier.id };
}

/** What makes two reservations the same request (the sender is part of the key's scope). */
function reservationHash(input: ReserveInput): string {
  const { productId, recipient, channel, message, sendAt, timeZone, senderName } = input;
  const r = { name: recipient.name, phone: recipient.phone ?? null, kakaoId: recipient.kakaoId ?? null, email: recipient.email ?? null };
  return createHash('sha256').update(JSON.stringify({ productId, recipient: r, channel, message, sendAt, timeZone, senderName: senderName ?? null })).digest('hex').slice(0, 32);
}

const PRODUCT_CACHE_MS = 30_000;
const writers = new WeakMap<GiftDeps['db'], ReservationWriter>();

/** One reservation writer per database, so concurrent reservations share its group commit. */
function writerOf(deps: GiftDeps): ReservationWriter {
  let writer = writers.get(deps.db);
  if (!writer) writers.set(deps.db, (writer = createReservationWriter(deps.db, deps.queues, deps.config)));
  return writer;
}

const productCache = new WeakMap<GiftDeps['db'], Map<string, { at: number; product: Promise<GiftProduct | undefined> }>>();

/** Products change rarely and every reservation reads one: kept for 30 s per database. */
function productOf(deps: Pick<GiftDeps, 'db'>, id: string): Promise<GiftProduct | undefined> {
  let cache = productCache.get(deps.db);
  if (!cache) productCache.set(deps.db, (cache = new Map()));
  const hit = cache.get(id);
  if (hit && Date.now() - hit.at < PRODUCT_CACHE_MS) return hit.product;
  const product = getGiftProduct(deps.db, id);
  cache.set(id, { at: Date.now(), product });
  product.catch(() => cache.delete(id));
  return product;
}

/** Work after a commit that a reconciler repeats if it fails: logged, never turned into an error. */
export async function afterCommit(deps: Pick<GiftDeps, 'logger'>, gift: { id: string }, what: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    deps.logger.warn({ giftId: gift.id, step: what, err: (err as Error).message }, 'gift step deferred to the reconciler');
  }
}
