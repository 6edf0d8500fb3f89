import type { Knex } from 'knex';

/** Every dispatch step reads the riders already asked for its order; without this it scans all offers. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('dispatch_offers', (t) => {
    t.index(['order_id'], 'dispatch_offers_order_id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('dispatch_offers', (t) => {
    t.dropIndex(['order_id'], 'dispatch_offers_order_id');
  });
}
