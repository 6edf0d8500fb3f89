import type { Knex } from 'knex';

/** Last run of each scheduled heartbeat: proof that schedulers, queues and workers all move. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('heartbeats', (t) => {
    t.text('id').primary();
    t.timestamp('beat_at', { useTz: true }).notNullable();
    t.text('worker').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('heartbeats');
}
