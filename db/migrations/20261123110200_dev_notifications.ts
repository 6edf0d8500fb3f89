import type { Knex } from 'knex';

/** What the development provider "sent": lets `npm start` run offline and shows every message. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('dev_notifications', (t) => {
    t.text('delivery_id').primary();
    t.text('channel').notNullable();
    t.text('address').notNullable();
    t.text('event').notNullable();
    t.text('title').notNullable();
    t.text('body').notNullable();
    t.jsonb('data').notNullable();
    t.timestamp('sent_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('dev_notifications');
}
