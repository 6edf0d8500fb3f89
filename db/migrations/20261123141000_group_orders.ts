import type { Knex } from 'knex';

/**
 * Group orders (seed 002): one creator, at most one joiner, and once matched exactly one real
 * order. Shares are stored as charged, so a settled group's money can be checked against its order.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('group_orders', (t) => {
    t.text('id').primary();
    t.text('creator_id').notNullable();
    t.text('joiner_id');
    t.text('restaurant_id').notNullable().references('id').inTable('restaurants');
    t.text('category').notNullable();
    t.text('mode').notNullable();
    t.text('status').notNullable();
    t.text('cancel_reason');
    t.double('dropoff_lat').notNullable();
    t.double('dropoff_lng').notNullable();
    t.text('dropoff_address').notNullable();
    t.integer('delivery_tip').notNullable();
    t.integer('creator_menu').notNullable();
    t.integer('creator_share').notNullable();
    t.integer('joiner_menu');
    t.integer('joiner_share');
    t.text('order_id').unique().references('id').inTable('orders');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('closed_at', { useTz: true });
    t.index(['creator_id', 'created_at']);
    t.index(['joiner_id', 'created_at']);
  });
  await knex.raw(`ALTER TABLE group_orders ADD CONSTRAINT group_orders_mode_check CHECK (mode IN ('SPLIT','EACH'))`);
  await knex.raw(`ALTER TABLE group_orders ADD CONSTRAINT group_orders_status_check CHECK (
    (status = 'OPEN' AND joiner_id IS NULL AND order_id IS NULL AND cancel_reason IS NULL)
    OR (status = 'MATCHED' AND joiner_id IS NOT NULL AND order_id IS NOT NULL AND joiner_share IS NOT NULL AND cancel_reason IS NULL)
    OR (status = 'CANCELLED' AND order_id IS NULL AND cancel_reason IN ('creator','expired')))`);
  await knex.raw('ALTER TABLE group_orders ADD CONSTRAINT group_orders_money_check CHECK (creator_menu > 0 AND delivery_tip >= 0 AND creator_share > 0 AND (joiner_share IS NULL OR joiner_share >= 0))');
  await knex.raw('ALTER TABLE group_orders ADD CONSTRAINT group_orders_two_people CHECK (joiner_id IS NULL OR joiner_id <> creator_id)');
  // The expiry reconciler reads only the open ones, oldest deadline first.
  await knex.raw(`CREATE INDEX group_orders_open_expiry ON group_orders (expires_at) WHERE status = 'OPEN'`);

  await knex.schema.createTable('group_order_items', (t) => {
    t.text('group_order_id').notNullable().references('id').inTable('group_orders').onDelete('CASCADE');
    t.text('user_id').notNullable();
    t.text('menu_item_id').notNullable();
    t.text('name').notNullable();
    t.integer('unit_price').notNullable();
    t.integer('quantity').notNullable();
    t.primary(['group_order_id', 'user_id', 'menu_item_id']);
  });
  await knex.raw('ALTER TABLE group_order_items ADD CONSTRAINT group_order_items_positive CHECK (unit_price > 0 AND quantity > 0)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('group_order_items');
  await knex.schema.dropTable('group_orders');
}
