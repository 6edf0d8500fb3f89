import type { Knex } from 'knex';

/**
 * A matched group order (seed 002) is one order for two customers: the creator is its customer,
 * the joiner its co-customer, who may read and track it and hears about it like the customer.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => {
    t.text('co_customer_id');
  });
  // "My orders" for a joiner; a sliver of the table, so the index is partial.
  await knex.raw('CREATE INDEX orders_by_co_customer ON orders (co_customer_id, created_at) WHERE co_customer_id IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS orders_by_co_customer');
  await knex.schema.alterTable('orders', (t) => {
    t.dropColumn('co_customer_id');
  });
}
