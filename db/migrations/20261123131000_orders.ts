import type { Knex } from 'knex';

/**
 * Orders with an optimistic version, their append-only event log, and the transactional outbox
 * that turns committed changes into notifications.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('orders', (t) => {
    t.text('id').primary();
    t.text('customer_id').notNullable();
    t.text('restaurant_id').notNullable().references('id').inTable('restaurants');
    t.text('rider_id');
    t.text('status').notNullable();
    t.integer('version').notNullable();
    t.integer('subtotal').notNullable();
    t.integer('delivery_tip').notNullable();
    t.integer('total').notNullable();
    t.double('dropoff_lat').notNullable();
    t.double('dropoff_lng').notNullable();
    t.text('dropoff_address').notNullable();
    t.integer('cook_minutes');
    t.timestamp('eta_at', { useTz: true });
    t.text('idempotency_key');
    t.text('request_hash');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['customer_id', 'idempotency_key']);
    t.index(['customer_id', 'created_at']);
    t.index(['restaurant_id', 'created_at']);
    t.index(['rider_id', 'created_at']);
  });
  await knex.raw(`ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('PLACED','COOKING','READY_FOR_PICKUP','PICKED_UP','DELIVERING','DELIVERED','REJECTED','CANCELLED'))`);
  await knex.raw('ALTER TABLE orders ADD CONSTRAINT orders_money_check CHECK (subtotal > 0 AND delivery_tip >= 0 AND total = subtotal + delivery_tip)');
  // One rider, one active order: enforced by the database, not only by dispatch code.
  await knex.raw(`CREATE UNIQUE INDEX orders_one_active_per_rider ON orders (rider_id)
    WHERE rider_id IS NOT NULL AND status IN ('PLACED','COOKING','READY_FOR_PICKUP','PICKED_UP','DELIVERING')`);

  await knex.schema.createTable('order_items', (t) => {
    t.text('order_id').notNullable().references('id').inTable('orders').onDelete('CASCADE');
    t.text('menu_item_id').notNullable();
    t.text('name').notNullable();
    t.integer('unit_price').notNullable();
    t.integer('quantity').notNullable();
    t.primary(['order_id', 'menu_item_id']);
  });

  await knex.schema.createTable('order_events', (t) => {
    t.text('order_id').notNullable().references('id').inTable('orders').onDelete('CASCADE');
    t.integer('version').notNullable();
    t.text('from_status');
    t.text('to_status').notNullable();
    t.text('actor_role').notNullable();
    t.text('actor_id').notNullable();
    t.text('reason');
    t.integer('cook_minutes');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // One event per version: two racing writers cannot both log the same step.
    t.primary(['order_id', 'version']);
  });

  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id').primary();
    t.text('topic').notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('outbox');
  await knex.schema.dropTable('order_events');
  await knex.schema.dropTable('order_items');
  await knex.schema.dropTable('orders');
}
