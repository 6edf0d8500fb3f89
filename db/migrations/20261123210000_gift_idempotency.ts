import type { Knex } from 'knex';

/**
 * Idempotent reservations: a client retrying `POST /v1/gifts` with the same Idempotency-Key gets
 * the gift made the first time (and is debited once); the hash of the first request tells a
 * retry apart from a different reservation reusing the key.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('gifts', (t) => {
    t.text('idempotency_key');
    t.text('request_hash');
  });
  await knex.raw('CREATE UNIQUE INDEX gifts_sender_idempotency_key ON gifts (sender_id, idempotency_key) WHERE idempotency_key IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS gifts_sender_idempotency_key');
  await knex.schema.alterTable('gifts', (t) => {
    t.dropColumn('idempotency_key');
    t.dropColumn('request_hash');
  });
}
