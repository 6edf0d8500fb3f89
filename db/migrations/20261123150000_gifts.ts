import type { Knex } from 'knex';

/**
 * Scheduled gifts (seed 004): the product catalogue, the gifts themselves (Postgres is the
 * schedule of record; Redis only holds a delayed job per gift) and their status history.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gift_products', (t) => {
    t.text('id').primary();
    t.text('brand').notNullable();
    t.text('name').notNullable();
    t.text('category').notNullable();
    t.integer('price').notNullable();
    t.integer('validity_days').notNullable().defaultTo(30);
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('ALTER TABLE gift_products ADD CONSTRAINT gift_products_check CHECK (price > 0 AND validity_days BETWEEN 1 AND 366)');

  await knex.schema.createTable('gifts', (t) => {
    t.text('id').primary();
    t.text('sender_id').notNullable();
    t.text('sender_name').notNullable();
    t.text('product_id').notNullable().references('id').inTable('gift_products');
    // What was paid and promised at reservation, kept even if the catalogue changes later.
    t.text('product_name').notNullable();
    t.integer('price').notNullable();
    t.integer('validity_days').notNullable();
    t.text('recipient_name').notNullable();
    t.text('recipient_phone');
    t.text('recipient_kakao_id');
    t.text('recipient_email');
    t.text('channel').notNullable();
    t.text('message').notNullable().defaultTo('');
    t.timestamp('send_at', { useTz: true }).notNullable();
    t.text('send_local').notNullable();
    t.text('time_zone').notNullable();
    t.text('status').notNullable();
    t.integer('version').notNullable().defaultTo(1);
    t.text('code').unique();
    t.text('link_token').unique();
    t.text('previous_link_token').unique();
    t.integer('transfer_count').notNullable().defaultTo(0);
    t.text('delivery_id');
    t.timestamp('claimed_at', { useTz: true });
    t.timestamp('sent_at', { useTz: true });
    t.timestamp('opened_at', { useTz: true });
    t.timestamp('used_at', { useTz: true });
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('remind_d3_at', { useTz: true });
    t.timestamp('remind_d1_at', { useTz: true });
    t.timestamp('reminded_d3_at', { useTz: true });
    t.timestamp('reminded_d1_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['sender_id', 'created_at']);
  });
  await knex.raw(`ALTER TABLE gifts ADD CONSTRAINT gifts_status_check
    CHECK (status IN ('SCHEDULED','SENDING','SENT','OPENED','USED','CANCELLED','FAILED_REFUNDED','EXPIRED_REFUNDED'))`);
  await knex.raw(`ALTER TABLE gifts ADD CONSTRAINT gifts_channel_check CHECK (channel IN ('kakao','sms','email'))`);
  await knex.raw('ALTER TABLE gifts ADD CONSTRAINT gifts_transfer_once CHECK (transfer_count BETWEEN 0 AND 1)');
  await knex.raw('ALTER TABLE gifts ADD CONSTRAINT gifts_message_length CHECK (char_length(message) <= 500)');
  // The reconciler's and the sweepers' scans touch only the rows that can still move.
  await knex.raw(`CREATE INDEX gifts_scheduled_due ON gifts (send_at) WHERE status = 'SCHEDULED'`);
  await knex.raw(`CREATE INDEX gifts_sending ON gifts (claimed_at) WHERE status = 'SENDING'`);
  await knex.raw(`CREATE INDEX gifts_held_expiry ON gifts (expires_at) WHERE status IN ('SENT','OPENED')`);

  await knex.schema.createTable('gift_events', (t) => {
    t.bigIncrements('id').primary();
    t.text('gift_id').notNullable().references('id').inTable('gifts').onDelete('CASCADE');
    t.text('to_status').notNullable();
    t.text('actor').notNullable();
    t.text('reason');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['gift_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('gift_events');
  await knex.schema.dropTable('gifts');
  await knex.schema.dropTable('gift_products');
}
