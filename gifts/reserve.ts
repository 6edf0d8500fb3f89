import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { getGiftProduct } from '../db/gift-products-repository.ts';
import type { GiftProduct } from '../domain/gifts/product-catalogue.ts';
import { insertGift, type GiftChannel, type GiftRow } from '../db/gifts-repository.ts';
import { checkSendWindow, describeSendTime, resolveSendTime, type SendTimeKind } from '../domain/gifts/send-time.ts';
import { notify } from '../notifications/notify.ts';
import type { Config } from '../runtime/config.ts';
import type { Logger } from '../runtime/logger.ts';
import type { QueueSet } from '../runtime/queues.ts';
import { missingAddress, type GiftRecipientInput } from './gift-input.ts';
import { chargeGift, InsufficientCreditsError } from './payments.ts';
import { scheduleSend } from './schedule.ts';

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
}

export type ReserveResult =
  | { kind: 'created'; gift: GiftRow; sendTimeKind: SendTimeKind }
  | { kind: 'invalid'; path: string; message: string }
  | { kind: 'insufficient'; available: number; required: number };

/**
 * Reserves a gift: checks product, address and send window, then in one transaction writes the
 * gift and debits the sender. The delayed send job and the sender's confirmation follow the
 * commit; if Redis is unreachable at that moment the gift is still safe, because Postgres is the
 * schedule of record and the reconciler adds any missing job (and the notification reconciler
 * any missing notification).
 */
export async function reserveGift(deps: GiftDeps, input: ReserveInput, now = new Date()): Promise<ReserveResult> {
  const product = await productOf(deps, input.productId);
  if (!product) return { kind: 'invalid', path: 'productId', message: `no gift product ${input.productId}` };
  const missing = missingAddress(input.channel, input.recipient);
  if (missing) return { kind: 'invalid', ...missing };
  const time = resolveSendTime(input.sendAt, input.timeZone);
  if (!time.ok) return { kind: 'invalid', path: time.path, message: time.message };
  const window = checkSendWindow(time.value.at, now, deps.config.gifts.minLeadMs);
  if (!window.ok) return { kind: 'invalid', path: 'sendAt', message: window.message };

  let gift: GiftRow;
  try {
    gift = await deps.db.transaction(async (trx) => {
      const row = await insertGift(trx, {
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
      });
      await chargeGift(trx, row, { welcome: deps.config.credits.welcome });
      return row;
    });
  } catch (err) {
    if (err instanceof InsufficientCreditsError) return { kind: 'insufficient', available: err.available, required: err.required };
    throw err;
  }
  // Independent of each other, so the caller waits for the slower one, not both in turn.
  await Promise.all([
    afterCommit(deps, gift, 'schedule', () => scheduleSend(deps.queues, gift, now.getTime())),
    afterCommit(deps, gift, 'confirm', () =>
      notify(deps, {
        event: 'gift.reserved',
        recipient: { userId: gift.sender_id },
        channels: ['push'],
        data: { giftId: gift.id, productName: gift.product_name, recipientName: gift.recipient_name, sendAt: describeSendTime(gift.send_at, gift.time_zone) },
        idempotencyKey: `gift:${gift.id}:reserved`,
      }),
    ),
  ]);
  return { kind: 'created', gift, sendTimeKind: time.value.kind };
}

const PRODUCT_CACHE_MS = 30_000;
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
