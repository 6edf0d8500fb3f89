import type { Knex } from 'knex';

/**
 * One row per (event, recipient, channel) delivery: written before the job is enqueued, so it is
 * also the record a reconciler re-enqueues from if Redis lost the job.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notification_deliveries', (t) => {
    t.text('id').primary();
    t.text('idempotency_key').notNullable();
    t.text('event').notNullable();
    t.text('channel').notNullable();
    t.text('recipient_key').notNullable();
    t.jsonb('recipient').notNullable();
    t.jsonb('data').notNullable();
    t.text('status').notNullable().defaultTo('queued');
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
    t.text('provider');
    t.text('provider_message_id');
    t.jsonb('detail');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('sent_at', { useTz: true });
    t.index(['created_at']);
    t.index(['recipient_key', 'created_at']);
  });
  // Only rows still owed a send: small, and skipped entirely when a row becomes 'sent'.
  await knex.raw(`CREATE INDEX notification_deliveries_unsent_index ON notification_deliveries (status, updated_at) WHERE status <> 'sent'`);
  await knex.raw(`ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_status_check
    CHECK (status IN ('queued','retrying','sent','failed'))`);
  await knex.raw(`ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_channel_check
    CHECK (channel IN ('push','sms','email','kakao'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('notification_deliveries');
}
