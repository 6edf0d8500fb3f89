import type { Knex } from 'knex';

/**
 * `order_events` and `dispatch_events` no longer carry a foreign key to `orders`. Both are
 * append-only logs, written only by the statements that change or lock their order in the same
 * transaction (db/order-transitions-repository.ts, db/dispatch-batch-repository.ts), and orders are
 * never deleted. The key made Postgres look up and share-lock the order again for every event: at
 * the 강남역 hot spot about 90,000 of those a minute beside the events themselves (bench/dispatch,
 * `BENCH_PG_STATEMENTS=1`). The state that must match an order (its dispatch and offers, items and
 * route) keeps its key.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE order_events DROP CONSTRAINT IF EXISTS order_events_order_id_foreign');
  await knex.raw('ALTER TABLE dispatch_events DROP CONSTRAINT IF EXISTS dispatch_events_order_id_foreign');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE order_events ADD CONSTRAINT order_events_order_id_foreign FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE');
  await knex.raw('ALTER TABLE dispatch_events ADD CONSTRAINT dispatch_events_order_id_foreign FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE');
}
