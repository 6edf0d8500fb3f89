import type { Knex } from 'knex';

/**
 * Credits in integer won: an append-only ledger and a cached balance per user that only changes in
 * the transaction that appends to the ledger. The CHECKs make a negative balance impossible even if
 * a future caller forgets the conditional update; the UNIQUE makes every (user, kind, reference)
 * happen at most once, so a repeated refund, release or capture is a no-op.
 *
 * No foreign key to `users`: credits can be granted to a user who has not signed in yet (a gift
 * recipient, an admin top-up), and users are created on first use.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('credit_accounts', (t) => {
    t.text('user_id').primary();
    t.bigInteger('available').notNullable();
    t.bigInteger('held').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('ALTER TABLE credit_accounts ADD CONSTRAINT credit_accounts_available_check CHECK (available >= 0)');
  await knex.raw('ALTER TABLE credit_accounts ADD CONSTRAINT credit_accounts_held_check CHECK (held >= 0)');

  await knex.schema.createTable('credit_ledger', (t) => {
    t.bigIncrements('id').primary();
    t.text('user_id').notNullable();
    t.text('kind').notNullable();
    t.bigInteger('amount').notNullable();
    t.text('ref_type').notNullable();
    t.text('ref_id').notNullable();
    t.text('memo');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['user_id', 'kind', 'ref_type', 'ref_id']);
    t.index(['user_id', 'id']);
  });
  await knex.raw(`ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_kind_check
    CHECK (kind IN ('grant','top_up','hold','capture','release','debit','refund'))`);
  await knex.raw('ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_amount_check CHECK (amount > 0)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('credit_ledger');
  await knex.schema.dropTable('credit_accounts');
}
