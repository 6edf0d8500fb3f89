import type { Knex } from 'knex';

/** Users are created on first use: identity comes from an outside provider. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.text('id').primary();
    t.text('role').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('customer','rider','restaurant','admin'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('users');
}
