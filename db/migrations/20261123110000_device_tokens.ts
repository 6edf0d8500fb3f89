import type { Knex } from 'knex';

/** Push tokens per user. A token belongs to one user at a time: re-registering moves it. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('device_tokens', (t) => {
    t.text('token').primary();
    t.text('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.text('platform').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['user_id']);
  });
  await knex.raw(`ALTER TABLE device_tokens ADD CONSTRAINT device_tokens_platform_check CHECK (platform IN ('ios','android','web'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('device_tokens');
}
