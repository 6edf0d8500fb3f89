import type { Knex } from 'knex';

/**
 * Dispatch (seed 003): riders' preferences and acceptance record, one dispatch per order, the
 * offers made one at a time, and the full event history of every dispatch.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rider_profiles', (t) => {
    t.text('rider_id').primary();
    t.integer('max_distance_m').notNullable().defaultTo(3_000);
    t.boolean('auto_accept').notNullable().defaultTo(false);
    t.integer('offers_received').notNullable().defaultTo(0);
    t.integer('offers_accepted').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('dispatches', (t) => {
    t.text('order_id').primary().references('id').inTable('orders').onDelete('CASCADE');
    t.text('status').notNullable();
    t.integer('round').notNullable().defaultTo(1);
    t.integer('offers_in_round').notNullable().defaultTo(0);
    t.integer('radius_m').notNullable();
    t.text('rider_id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE dispatches ADD CONSTRAINT dispatches_status_check CHECK (status IN ('SEARCHING','OFFERED','ASSIGNED','FAILED','CANCELLED'))`);
  await knex.schema.createTable('dispatch_offers', (t) => {
    t.text('id').primary();
    t.text('order_id').notNullable().references('id').inTable('orders').onDelete('CASCADE');
    t.text('rider_id').notNullable();
    t.text('status').notNullable().defaultTo('PENDING');
    t.double('distance_m').notNullable();
    t.integer('expected_earning').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('decided_at', { useTz: true });
    t.index(['rider_id', 'created_at']);
  });
  await knex.raw(`ALTER TABLE dispatch_offers ADD CONSTRAINT dispatch_offers_status_check CHECK (status IN ('PENDING','ACCEPTED','REJECTED','EXPIRED','CANCELLED'))`);
  // One order is offered to one rider at a time, and a rider considers one offer at a time.
  await knex.raw(`CREATE UNIQUE INDEX dispatch_offers_one_pending_per_order ON dispatch_offers (order_id) WHERE status = 'PENDING'`);
  await knex.raw(`CREATE UNIQUE INDEX dispatch_offers_one_pending_per_rider ON dispatch_offers (rider_id) WHERE status = 'PENDING'`);
  await knex.schema.createTable('dispatch_events', (t) => {
    t.bigIncrements('id').primary();
    t.text('order_id').notNullable().references('id').inTable('orders').onDelete('CASCADE');
    t.text('type').notNullable();
    t.text('rider_id');
    t.jsonb('detail').notNullable().defaultTo('{}');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['order_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('dispatch_events');
  await knex.schema.dropTable('dispatch_offers');
  await knex.schema.dropTable('dispatches');
  await knex.schema.dropTable('rider_profiles');
}
