import type { Knex } from 'knex';

/**
 * Restaurants and their menus, loaded by `deligo seed`. Money is whole won (integer).
 * The category list is spelled out here rather than imported: a migration must keep meaning
 * what it meant when it ran, even if the application's list changes later.
 */
const CATEGORIES = ['korean', 'chicken', 'pizza', 'chinese', 'japanese', 'bunsik', 'cafe', 'burger', 'jokbal'];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('restaurants', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    t.text('category').notNullable();
    t.double('lat').notNullable();
    t.double('lng').notNullable();
    t.text('address').notNullable();
    t.integer('min_order').notNullable();
    t.integer('delivery_tip').notNullable();
    t.integer('prep_minutes').notNullable();
    t.boolean('open').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // A few thousand rows at most: a btree on the bounding box is enough, no geo extension needed.
    t.index(['lat', 'lng']);
  });
  const categories = CATEGORIES.map((c) => `'${c}'`).join(',');
  await knex.raw(`ALTER TABLE restaurants
    ADD CONSTRAINT restaurants_category_check CHECK (category IN (${categories})),
    ADD CONSTRAINT restaurants_position_check CHECK (lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180),
    ADD CONSTRAINT restaurants_money_check CHECK (min_order >= 0 AND delivery_tip >= 0),
    ADD CONSTRAINT restaurants_prep_check CHECK (prep_minutes > 0)`);

  await knex.schema.createTable('menu_items', (t) => {
    t.text('id').primary();
    t.text('restaurant_id').notNullable().references('id').inTable('restaurants').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('description').nullable();
    t.integer('price').notNullable();
    t.boolean('available').notNullable().defaultTo(true);
    t.integer('sort').notNullable().defaultTo(0);
    t.index(['restaurant_id']);
  });
  await knex.raw('ALTER TABLE menu_items ADD CONSTRAINT menu_items_price_check CHECK (price > 0)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('menu_items');
  await knex.schema.dropTable('restaurants');
}
