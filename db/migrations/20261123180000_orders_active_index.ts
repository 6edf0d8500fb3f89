import type { Knex } from 'knex';

/**
 * The ops map lists every open order each second. Open orders are a sliver of the table, so a
 * partial index over them keeps that read small however long the order history grows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE INDEX orders_open_by_created ON orders (created_at DESC)
    WHERE status IN ('PLACED','COOKING','READY_FOR_PICKUP','PICKED_UP','DELIVERING')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS orders_open_by_created');
}
