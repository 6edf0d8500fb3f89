/**
 * bench/memory: what one rider, one queued job, one scheduled gift costs in Redis, and what one
 * row costs in Postgres, created through deligo's own code paths, for docs/capacity.md.
 *
 *   npm run bench:memory        (BENCH_MEMORY_ITEMS=10000 by default)
 *
 * Redis: INFO used_memory before and after creating N items (the delta over N, which includes
 * the dictionary and list overhead a single key's MEMORY USAGE misses), beside MEMORY USAGE of
 * sampled keys (the baseline column: the bytes of the item's own keys). Postgres:
 * pg_total_relation_size (heap, TOAST and every index, all partitions) before and after loading
 * N rows, over N.
 */
import type { Knex } from 'knex';
import { seedCatalogue, seedGiftProducts } from '../cli/commands/seed.ts';
import { archiveRoute } from '../db/delivery-routes-repository.ts';
import { ensurePartitions } from '../db/location-partitions.ts';
import { rollUpMinutes } from '../db/location-rollups-repository.ts';
import { offerTimeoutJobId } from '../dispatch/offer-timeouts.ts';
import type { LocationPoint } from '../domain/location/point.ts';
import { encodePolyline } from '../domain/location/polyline.ts';
import { scheduleSends } from '../gifts/schedule.ts';
import { FLEET_SHARDS } from '../location/fleet-index.ts';
import { createHistoryWriter } from '../location/history-writer.ts';
import { createLocationIngest } from '../location/ingest.ts';
import { createLiveLocation } from '../location/live-location.ts';
import { createOrderTracking } from '../location/order-tracking.ts';
import { notifyMany } from '../notifications/notify.ts';
import { createOrderPlacer } from '../orders/place-order.ts';
import { around, gangnamRestaurants, GANGNAM_STATION, seeded } from './support/hot-spot.ts';
import { report } from './support/report.ts';
import { machine, startBenchServices } from './support/services.ts';
import { fmt } from './support/stats.ts';

const N = Number(process.env.BENCH_MEMORY_ITEMS ?? 10_000);
const SAMPLES = 100;
const services = await startBenchServices();
const { platform } = services;
const { redis, db, queues, config } = platform;
const random = seeded(5);
const rows: string[] = [];

const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
const memoryUsage = async (keys: string[]) => {
  let total = 0;
  for (const key of keys) total += Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  return total;
};
const chunks = async <T>(items: T[], size: number, run: (chunk: T[]) => Promise<unknown>) => {
  for (let i = 0; i < items.length; i += size) await run(items.slice(i, i + size));
};

/** MEMORY USAGE of sampled items' keys, per item (one key per item). */
const perKey = async (keys: string[]) => (await memoryUsage(keys)) / Math.max(1, keys.length);

/** Redis bytes per item: INFO delta over `n` items, and `sample()`: MEMORY USAGE of an item's own keys. */
async function redisPerItem(metric: string, label: string, n: number, create: () => Promise<unknown>, sample: () => Promise<number>) {
  const before = await usedMemory();
  await create();
  const delta = (await usedMemory()) - before;
  const sampled = await sample();
  const perItem = delta / n;
  rows.push(`| Redis: ${label} | ${fmt(n)} | ${fmt(perItem)} | ${fmt(sampled)} |`);
  report({ bench: 'memory', metric, label: `Redis bytes per ${label}`, value: perItem, unit: 'B', baseline: sampled, baselineLabel: 'MEMORY USAGE of its own keys' });
}

/** Postgres bytes per row: total relation size (every partition, index and TOAST) delta over the rows added. */
async function postgresPerRow(metric: string, label: string, tables: string[], countTable: string, create: () => Promise<unknown>) {
  const size = async () => {
    let total = 0;
    // pg_partition_tree lists a partitioned table's partitions (and nothing for a plain table).
    for (const t of tables) total += Number((await db.raw(`SELECT coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree(?::regclass)), pg_total_relation_size(?::regclass)) AS n`, [t, t])).rows[0].n);
    return total;
  };
  const count = async () => Number((await db(countTable).count('* as n'))[0]!.n);
  const [sizeBefore, countBefore] = [await size(), await count()];
  await create();
  await db.raw(`VACUUM ANALYZE ${tables.join(', ')}`);
  const added = (await count()) - countBefore;
  const perRow = ((await size()) - sizeBefore) / Math.max(1, added);
  rows.push(`| Postgres: ${label} (${tables.join(' + ')}) | ${fmt(added)} | ${fmt(perRow)} | |`);
  report({ bench: 'memory', metric, label: `Postgres bytes per ${label}, indexes included`, value: perRow, unit: 'B' });
}

try {
  const now = Date.now();
  await ensurePartitions(db, now);

  // A rider on shift: status (presence) and latest position in its hash, membership in its geo cell.
  const live = createLiveLocation(redis, 'mem');
  const riders: LocationPoint[] = Array.from({ length: N }, (_, i) => ({ riderId: `mr-${i}`, recordedAt: now, ...around(random, { lat: 37.5665, lng: 126.978 }, 15_000), speed: 4, heading: 0, accuracy: 5, mocked: false }));
  await redisPerItem(
    'redis-rider',
    'rider (latest position + geo membership + presence + fleet index entry)',
    N,
    () =>
      chunks(riders, 1_000, async (chunk) => {
        await Promise.all(chunk.map((p) => live.setStatus(p.riderId, 'available', now)));
        await live.apply(chunk);
      }),
    async () => {
      const cells: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', live.keys.allCells, 'COUNT', 1_000);
        cursor = next;
        cells.push(...found);
      } while (cursor !== '0');
      // Geo cells and the ops map's fleet index shards are shared: each rider is charged its share of them.
      const fleet = Array.from({ length: FLEET_SHARDS }, (_, i) => [live.keys.fleet(i), `${live.keys.fleet(i)}:riders`]).flat();
      return (await perKey(riders.slice(0, SAMPLES).map((p) => live.keys.rider(p.riderId)))) + (await memoryUsage([...cells, ...fleet])) / N;
    },
  );

  // An order being delivered, as trackers read it: its tracking hash with status, rider and a 20-point route, and the rider → order link.
  const tracking = createOrderTracking(redis, 'mem');
  const tracked = Math.max(1, Math.floor(N / 5));
  await redisPerItem('redis-order-tracking', 'tracked order (status, rider, 20-point route)', tracked, async () => {
    for (let i = 0; i < tracked; i++) {
      await tracking.applyStatus({
        orderId: `mo-${i}`, version: 5, from: 'PICKED_UP', to: 'DELIVERING', customerId: `mc-${i}`, restaurantId: 'rest-1', restaurantName: '교촌치킨',
        riderId: `mtr-${i}`, cookMinutes: 15, etaMinutes: 9, reason: null, itemCount: 2, total: 32_000,
        restaurant: { lat: 37.4979, lng: 127.0276 }, dropoff: { lat: 37.5079, lng: 127.0276 }, etaAt: new Date(now + 540_000).toISOString(),
      });
      await tracking.attachRider(`mo-${i}`, `mtr-${i}`);
    }
    for (let k = 0; k < 20; k++) await chunks(Array.from({ length: tracked }, (_, i) => i), 1_000, (chunk) => tracking.applyPositions(chunk.map((i) => ({ riderId: `mtr-${i}`, recordedAt: now - (20 - k) * 5_000, lat: 37.4979 + k * 0.0004, lng: 127.0276, speed: 6, heading: 0, accuracy: 5, mocked: false }))));
  }, async () => {
    const sample = Array.from({ length: Math.min(SAMPLES, tracked) }, (_, i) => i);
    return (await memoryUsage(sample.flatMap((i) => [`mem:order-track:{order-mo-${i}}`, `mem:rider-order:{mtr-${i}}`]))) / sample.length;
  });

  // The fraud rules' recent track: ten minutes of fixes at one per 5 s (120 points) per rider.
  const trackRiders = Math.max(1, Math.floor(N / 10));
  await redisPerItem(
    'redis-rider-track',
    'rider recent track (120 fixes, 10 min at 5 s)',
    trackRiders,
    () =>
      chunks(
        Array.from({ length: trackRiders }, (_, i) => i),
        50,
        (chunk) => live.track.addAndRead(new Map(chunk.map((i) => [`mt-${i}`, Array.from({ length: 120 }, (_, k) => ({ riderId: `mt-${i}`, recordedAt: now - (120 - k) * 5_000, lat: 37.5 + k * 0.0002, lng: 127, speed: 5, heading: 0, accuracy: 5, mocked: false }))]))),
      ),
    () => perKey(Array.from({ length: Math.min(SAMPLES, trackRiders) }, (_, i) => `mem:rider-track:{mt-${i}}`)),
  );

  // Queued location.batch jobs from the API's group commit: one point each, and 20 requests' worth.
  await queues.get('location').pause();
  const ingest = createLocationIngest(queues);
  const before = await queues.get('location').getJobCountByTypes('waiting');
  const point = (i: number): LocationPoint => ({ riderId: `mr-${i % N}`, recordedAt: now + i, lat: 37.5, lng: 127, speed: 5, heading: 0, accuracy: 5, mocked: false });
  const locationJobBytes = async () => perKey((await queues.get('location').getJobs(['waiting'], 0, SAMPLES - 1)).map((j) => queues.get('location').toKey(j.id!)));
  await redisPerItem('redis-location-job', 'queued location.batch job (1 point)', N, async () => {
    for (let i = 0; i < N; i++) await ingest.accept([point(i)]);
  }, locationJobBytes);
  const jobs = Math.max(1, Math.floor(N / 20));
  await redisPerItem('redis-location-job-20', 'queued location.batch job (20 requests, 1 point each)', jobs, async () => {
    for (let j = 0; j < jobs; j++) await Promise.all(Array.from({ length: 20 }, (_, k) => ingest.accept([point(j * 20 + k)])));
  }, locationJobBytes);
  if ((await queues.get('location').getJobCountByTypes('waiting')) - before < N) throw new Error('location jobs were not all queued');

  // Notification jobs through notify(): one delivery row and one push job each (no worker runs here).
  await redisPerItem('redis-notification-job', 'queued notification job (push)', N, () =>
    chunks(Array.from({ length: N }, (_, i) => i), 1_000, (chunk) =>
      notifyMany(platform, chunk.map((i) => ({ event: 'order.delivered', recipient: { userId: `mc-${i}` }, channels: ['push'] as const, data: { orderId: `mo-${i}` }, idempotencyKey: `mem:${i}` }))),
    ),
    async () => perKey((await queues.get('notifyPush').getJobs(['waiting', 'prioritized'], 0, SAMPLES - 1)).map((j) => queues.get('notifyPush').toKey(j.id!))),
  );

  // The dispatch offer timeout as dispatch/match-batches.ts adds it, one job for the offers made
  // together; measured here with one offer a job, the case of a quiet hour (under load a job covers
  // several offers, so the capacity plan's bytes per pending offer err high).
  await redisPerItem('redis-offer-timeout-job', 'delayed dispatch.offer-timeout job (one offer)', N, () =>
    chunks(Array.from({ length: N }, (_, i) => `moffer-${i}`), 500, (ids) => Promise.all(ids.map((offerId) => queues.get('dispatch').add('dispatch.offer-timeout', { offerIds: [offerId] }, { jobId: offerTimeoutJobId([offerId]), delay: config.dispatch.offerTimeoutMs })))),
    () => perKey(Array.from({ length: SAMPLES }, (_, i) => queues.get('dispatch').toKey(offerTimeoutJobId([`moffer-${i}`])))),
  );

  // A scheduled gift: its gift.send delayed job (the only Redis state a reserved gift has).
  await seedGiftProducts(db);
  const sendAt = new Date(now + 30 * 86_400_000);
  await postgresPerRow('pg-gift', 'scheduled gift row', ['gifts', 'gift_events'], 'gifts', async () => {
    await db.raw(
      `INSERT INTO gifts (id, sender_id, sender_name, product_id, product_name, price, validity_days, recipient_name, recipient_phone, channel, message, send_at, send_local, time_zone, status)
       SELECT 'mg-' || i, 'ms-' || (i % 500), '보내는사람', 'gp-starbucks-americano-t', '스타벅스 아메리카노 Tall', 4700, 30, '받는사람' || i, '010-1234-' || lpad((i % 10000)::text, 4, '0'),
              'kakao', '생일 축하해! 🎂', ?, '2026-12-23T00:00', 'Asia/Seoul', 'SCHEDULED' FROM generate_series(1, ?) AS i`,
      [sendAt, N],
    );
    await db.raw(`INSERT INTO gift_events (gift_id, to_status, actor, reason) SELECT id, 'SCHEDULED', 'user:' || sender_id, 'reserved' FROM gifts WHERE id LIKE 'mg-%'`);
  });
  const gifts = await db('gifts').where('id', 'like', 'mg-%').select<Array<{ id: string; send_at: Date }>>('id', 'send_at');
  await redisPerItem('redis-gift', 'scheduled gift (delayed gift.send job)', gifts.length, () => chunks(gifts, 5_000, (chunk) => scheduleSends(queues, chunk)), () =>
    perKey(gifts.slice(0, SAMPLES).map((g) => queues.get('gifts').toKey(g.id))),
  );

  // Raw points through the history writer (COPY into the hourly partitions), then their minute rollups.
  const pathRiders = Math.max(1, Math.floor(N / 10));
  const end = Math.floor(now / 60_000) * 60_000 - 3 * 60_000;
  await postgresPerRow('pg-raw-point', 'raw location point', ['rider_locations'], 'rider_locations', async () => {
    const history = createHistoryWriter(db);
    for (let r = 0; r < pathRiders; r += 50) {
      const batch = Array.from({ length: Math.min(50, pathRiders - r) }, (_, j) => r + j).flatMap((rider) =>
        Array.from({ length: 120 }, (_, k): LocationPoint => ({ riderId: `mp-${rider}`, recordedAt: end - (120 - k) * 5_000, lat: 37.45 + (rider % 100) * 0.001 + (k * 25) / 111_320, lng: 127 + Math.floor(rider / 100) * 0.001, speed: 5, heading: 0, accuracy: 6, mocked: false })),
      );
      await history.write(batch);
    }
  });
  await postgresPerRow('pg-rollup', 'minute rollup row', ['rider_location_rollups'], 'rider_location_rollups', async () => {
    await rollUpMinutes(db, { now, maxMinutes: 24 * 60 + 10 });
  });

  // Orders through the real placer: the order row, and with its items and events.
  await seedCatalogue(db);
  const restaurants = await gangnamRestaurants(db);
  const place = createOrderPlacer(db);
  const orderCount = Math.max(1, Math.floor(N / 5));
  const placeAll = () =>
    chunks(Array.from({ length: orderCount }, (_, i) => i), 50, (chunk) =>
      Promise.all(
        chunk.map(async (i) => {
          const r = restaurants[i % restaurants.length]!;
          const result = await place({ customerId: `mc-${i}`, restaurantId: r.id, items: [{ menuItemId: r.item, quantity: r.quantity }], dropoff: { ...around(random, r, 2_000), address: '서울 강남구 테헤란로 152' } });
          if (result.kind !== 'created') throw new Error(`placing failed: ${JSON.stringify(result)}`);
        }),
      ),
    );
  await postgresPerRow('pg-order', 'order (order row + items + events + outbox)', await existing(db, ['orders', 'order_items', 'order_events', 'outbox']), 'orders', placeAll);

  // Delivery routes as orders-archive-route writes them, one per order placed above: a 25-minute ride, a fix every 5 s.
  const orderIds = (await db('orders').select<Array<{ id: string }>>('id')).map((o) => o.id);
  await postgresPerRow('pg-route', 'delivery route row (300-point polyline)', ['delivery_routes'], 'delivery_routes', () =>
    chunks(orderIds, 200, (chunk) =>
      Promise.all(
        chunk.map((orderId, i) => {
          const start = around(random, GANGNAM_STATION, 3_000);
          const track = Array.from({ length: 300 }, (_, k) => ({ lat: start.lat + k * 0.00004 + random() * 0.00001, lng: start.lng + Math.sin(k / 30) * 0.001 }));
          return archiveRoute(db, { order_id: orderId, rider_id: `mr-${i % 1_000}`, picked_up_at: new Date(now - 25 * 60_000), delivered_at: new Date(now), polyline: encodePolyline(track), point_count: 300, flagged_count: 0, settlement_distance_m: 3_200, fare: 3_500 });
        }),
      ),
    ),
  );

  console.log(`\nbench/memory  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${fmt(N)} items per measure (riders' tracks and raw-point riders: N/10; tracked and placed orders, routes: N/5); Redis ${(await redis.info('server')).match(/redis_version:(\S+)/)?.[1]}\n`);
  console.log('| item | n | bytes per item (used_memory delta / n; Postgres: total relation size delta / rows) | MEMORY USAGE of its own keys, per item |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(row);
} finally {
  await services.stop();
}

/** Only the tables this schema has (the outbox is a separate table only on some branches). */
async function existing(knex: Knex, tables: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const t of tables) if (await knex.schema.hasTable(t)) out.push(t);
  return out;
}

