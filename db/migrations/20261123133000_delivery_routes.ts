import type { Knex } from 'knex';

/** The route of every delivery, kept forever for distance-based settlement and disputes (seed 001). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('delivery_routes', (t) => {
    t.text('order_id').primary().references('id').inTable('orders');
    t.text('rider_id').notNullable();
    t.timestamp('picked_up_at', { useTz: true }).notNullable();
    t.timestamp('delivered_at', { useTz: true }).notNullable();
    t.text('polyline').notNullable();
    t.integer('point_count').notNullable();
    t.integer('flagged_count').notNullable();
    t.integer('settlement_distance_m').notNullable();
    t.integer('fare').notNullable();
    t.timestamp('archived_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['rider_id', 'delivered_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('delivery_routes');
}
