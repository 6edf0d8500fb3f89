import type { Knex } from 'knex';

/**
 * The outbox relay claims rows for a short lease instead of holding them locked in an open
 * transaction while it delivers: delivery talks to Redis and Postgres on other connections, and a
 * transaction held across that pinned one pool connection per relay and, at peak, starved the pool.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.timestamp('claimed_until', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.dropColumn('claimed_until');
  });
}
