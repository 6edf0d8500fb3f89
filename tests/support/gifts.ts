import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { topUp } from '../../credits/ledger.ts';
import { seedGiftProducts } from '../../cli/commands/seed.ts';
import { getGift, type GiftRow } from '../../db/gifts-repository.ts';
import { reserveGift, type GiftDeps, type ReserveInput } from '../../gifts/reserve.ts';
import { giftSchedulers } from '../../schedulers/definitions.ts';
import { syncSchedulers } from '../../schedulers/sync.ts';
import type { Providers } from '../../notifications/providers/index.ts';
import { createDevProvider } from '../../notifications/providers/dev.ts';
import { TransientDeliveryError, type NotificationProvider, type SendRequest } from '../../notifications/provider.ts';
import { runPools } from '../../workers/run-pools.ts';
import { createTestPlatform, eventually, type TestPlatform } from './services.ts';

/** Settings that make gifts due in seconds and every sweep run about once a second. */
export const FAST_GIFTS = {
  GIFT_MIN_LEAD_MS: '1000',
  GIFT_MODIFY_CUTOFF_MS: '500',
  GIFT_RECONCILE_MS: '1000',
  GIFT_SETTLE_MS: '300',
  GIFT_HOUSEKEEPING_MS: '500',
  NOTIFY_BACKOFF_MS: '100',
  // The development provider: no reason to throttle it in tests.
  NOTIFY_RATE_KAKAO: '100000',
  NOTIFY_RATE_SMS: '100000',
};

/** Local wall time `ms` from now in `zone`, to the second, as a sender would type it. */
export const localIn = (zone: string, ms: number) => DateTime.now().plus({ milliseconds: ms }).setZone(zone).toFormat("yyyy-LL-dd'T'HH:mm:ss");

export interface GiftTestBed {
  platform: TestPlatform;
  deps: GiftDeps;
  reserve(over?: Partial<ReserveInput>, dueInMs?: number): Promise<GiftRow>;
  gift(id: string): Promise<GiftRow>;
  waitFor(id: string, statuses: string[], timeoutMs?: number): Promise<GiftRow>;
  /** Starts the gifts, notifications and maintenance pools (`times` workers of each) and the gift schedulers. */
  start(options?: { times?: number; providers?: Providers; schedulers?: boolean }): Promise<void>;
}

export async function createGiftTestBed(env: Record<string, string> = {}): Promise<GiftTestBed> {
  const platform = await createTestPlatform({ ...FAST_GIFTS, ...env });
  await seedGiftProducts(platform.db);
  // Enough for thousands of gifts; the reservation tests check the shortfall path.
  await platform.db.transaction((trx) => topUp(trx, { userId: 'c-sender', amount: 100_000_000, ref: { type: 'test', id: randomUUID() } }));
  const deps: GiftDeps = { db: platform.db, queues: platform.queues, config: platform.config, logger: platform.logger };
  let n = 0;
  const bed: GiftTestBed = {
    platform,
    deps,
    async reserve(over = {}, dueInMs = 2_500) {
      n++;
      const result = await reserveGift(deps, {
        senderId: 'c-sender',
        senderName: '이준호',
        productId: 'gp-starbucks-americano-t',
        recipient: { name: `수신자${n}`, phone: `010-5555-${String(n).padStart(4, '0')}` },
        channel: 'kakao',
        message: '축하해!',
        sendAt: localIn('Asia/Seoul', dueInMs),
        timeZone: 'Asia/Seoul',
        ...over,
      });
      if (result.kind !== 'created') throw new Error(`reserve failed: ${JSON.stringify(result)}`);
      return result.gift;
    },
    gift: async (id) => (await getGift(platform.db, id))!,
    // A gift sent at its first attempt is SENT on record at once and its record (message row,
    // history, sender notice) follows (gifts/recorder.ts): a sent gift counts once that is written too.
    waitFor: (id, statuses, timeoutMs = 30_000) =>
      eventually(async () => {
        const g = await getGift(platform.db, id);
        if (!g || !statuses.includes(g.status)) return undefined;
        if (g.sent_at && g.delivery_id && !(await platform.db('notification_deliveries').where({ id: g.delivery_id }).first('id'))) return undefined;
        return g;
      }, timeoutMs, `gift ${id} to be ${statuses.join(' or ')}`),
    async start(options = {}) {
      for (let i = 0; i < (options.times ?? 1); i++) await runPools(platform, platform.releasers, ['gifts', 'notifications', 'maintenance'], { providers: options.providers });
      if (options.schedulers !== false) await syncSchedulers(platform.queues, giftSchedulers(platform.config.gifts), platform.logger);
    },
  };
  return bed;
}

/**
 * Dev providers for every channel, with one channel (KakaoTalk unless told) counting how often each
 * delivery reached it: `calls.get(deliveryId)` is 1 for a message handed over exactly once. With
 * `failFirst`, the first attempt of each delivery it picks is refused as a gateway hiccup would be.
 */
export function countingProviders(channel: NotificationProvider['channel'] = 'kakao', options: { failFirst?: (request: SendRequest) => boolean } = {}): { providers: Providers; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const dev = createDevProvider(channel);
  const counting: NotificationProvider = {
    channel,
    name: 'dev',
    async send(request) {
      const n = (calls.get(request.deliveryId) ?? 0) + 1;
      calls.set(request.deliveryId, n);
      if (n === 1 && options.failFirst?.(request)) throw new TransientDeliveryError(`${channel} gateway busy`);
      return dev.send(request);
    },
  };
  return { providers: { push: createDevProvider('push'), sms: createDevProvider('sms'), email: createDevProvider('email'), kakao: createDevProvider('kakao'), [channel]: counting }, calls };
}
