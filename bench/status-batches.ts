/**
 * bench/status-batches: what a status change costs Postgres by how many changes share its statement
 * (db/order-transitions-repository.ts: applyTransitions, the statement the API's group commit
 * writes), on the real schema with its indexes and foreign keys, synchronous commit on.
 *
 *   npm run bench:status-batches     (BENCH_ORDERS=12000 orders, each moved three times, per size)
 *
 * Why it exists: at a hot spot the API writes about 800 changes a second, and one event-loop turn
 * gathered only 3–4 of them a statement. This splits a statement's cost into a fixed part and a
 * part per change, which is what runtime/group-commit.ts's `lingerMs` (API_WRITE_LINGER_MS) trades
 * a few milliseconds of waiting for. The baseline is one change a statement, in the same run.
 */
import { seedCatalogue } from '../cli/commands/seed.ts';
import { applyTransitions, type TransitionInput } from '../db/order-transitions-repository.ts';
import { sharedCpuReader, sharedCpuUsed } from './support/processes.ts';
import { report } from './support/report.ts';
import { machine, startBenchServices } from './support/services.ts';
import { fmt } from './support/stats.ts';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 12_000);
/** Statements in flight at once, as the API's group commit allows (maxInFlight). */
const LANES = 4;
const SIZES = [1, 4, 16] as const;
const MOVES = ['READY_FOR_PICKUP', 'PICKED_UP', 'DELIVERING'] as const;

const services = await startBenchServices();
const { db, redis } = services.platform;
try {
  await seedCatalogue(db);
  const restaurantId = (await db('restaurants').first<{ id: string }>('id'))!.id;
  const cpu = await sharedCpuReader(redis, db);

  /** Postgres and client CPU per change, moving fresh orders three times in statements of `size` changes. */
  const measure = async (size: number, round: number) => {
    const ids = Array.from({ length: ORDERS }, (_, i) => `sb-${size}-${round}-${i}`);
    for (let i = 0; i < ORDERS; i += 1_000) {
      await db('orders').insert(
        ids.slice(i, i + 1_000).map((id) => ({ id, customer_id: `c-${id}`, restaurant_id: restaurantId, rider_id: `r-${id}`, status: 'COOKING', version: 2, subtotal: 10_000, delivery_tip: 3_000, total: 13_000, dropoff_lat: 37.5, dropoff_lng: 127.03, dropoff_address: '강남구 테헤란로 1' })),
      );
    }
    await db.raw('ANALYZE orders');
    const before = await cpu();
    for (const [step, to] of MOVES.entries()) {
      await Promise.all(
        Array.from({ length: LANES }, async (_, lane) => {
          for (let i = lane * size; i < ORDERS; i += LANES * size) {
            const from = step === 0 ? 'COOKING' : MOVES[step - 1]!;
            const changes = ids.slice(i, i + size).map((id): TransitionInput => ({ id, expectedVersion: 2 + step, to, event: { from_status: from, actor_role: 'rider', actor_id: `r-${id}`, reason: null, cook_minutes: null }, outbox: [{ topic: 'order.status', payload: { orderId: id, from, to } }] }));
            if ((await applyTransitions(db, changes)).some((row) => !row)) throw new Error('a change was lost');
          }
        }),
      );
    }
    const used = sharedCpuUsed(before, await cpu());
    const changes = ORDERS * MOVES.length;
    return { postgres: (used.postgres * 1e6) / changes, client: (used.bench * 1e6) / changes };
  };

  // Two rounds, sizes interleaved, so a shift in the shared machine falls on every size alike.
  const results = new Map<number, Array<{ postgres: number; client: number }>>(SIZES.map((s) => [s, []]));
  for (const round of [1, 2]) for (const size of SIZES) results.get(size)!.push(await measure(size, round));
  const mean = (size: number) => results.get(size)!.reduce((n, r) => n + r.postgres, 0) / results.get(size)!.length;
  const one = mean(1);
  const sixteen = mean(16);
  // cost(size) = fixed / size + per change: from the sizes 1 and 16.
  const fixed = ((one - sixteen) * 16) / 15;

  console.log(`\nbench/status-batches  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${fmt(ORDERS)} orders a size and round, each moved ${MOVES.length} times; ${LANES} statements in flight; two rounds, sizes interleaved\n`);
  console.log('| changes a statement | Postgres µs per change (round 1 / 2) | this process (knex, pg) µs per change | Postgres ÷ one a statement |');
  console.log('|---|---|---|---|');
  for (const size of SIZES) {
    const rows = results.get(size)!;
    console.log(`| ${size} | ${rows.map((r) => fmt(r.postgres)).join(' / ')} | ${rows.map((r) => fmt(r.client)).join(' / ')} | ${(mean(size) / one).toFixed(2)} × |`);
  }
  console.log(`\nfixed cost a statement ≈ ${fmt(fixed)} µs of Postgres, cost a change ≈ ${fmt(one - fixed)} µs (from 1 and 16 a statement)`);
  report({ bench: 'status-batches', metric: 'pg-us-per-change-16', label: 'Postgres CPU per status change, 16 changes a statement', value: sixteen, unit: 'µs', baseline: one, baselineLabel: 'one change a statement, same run' });
  report({ bench: 'status-batches', metric: 'pg-us-per-change-4', label: 'Postgres CPU per status change, 4 changes a statement', value: mean(4), unit: 'µs', baseline: one, baselineLabel: 'one change a statement, same run' });
} finally {
  await services.stop();
}
process.exit(process.exitCode ?? 0);
