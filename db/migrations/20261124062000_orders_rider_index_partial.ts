import type { Knex } from 'knex';

/**
 * A rider's deliveries are read by rider (`rider_id = ?`), never for orders without one, yet every
 * order starts without a rider and the full index gave each new order, and each of its status
 * changes until a rider took it, an index entry for NULL. Orders are placed by the hundred a
 * second at the peak; the partial index holds only what is read.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX orders_by_rider ON orders (rider_id, created_at) WHERE rider_id IS NOT NULL');
  await knex.raw('DROP INDEX IF EXISTS orders_rider_id_created_at_index');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX IF NOT EXISTS orders_rider_id_created_at_index ON orders (rider_id, created_at)');
  await knex.raw('DROP INDEX IF EXISTS orders_by_rider');
}
