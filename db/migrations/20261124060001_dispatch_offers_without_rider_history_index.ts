import type { Knex } from 'knex';

/**
 * Nothing reads a rider's offers by time (a rider's pending offer is found through the
 * one-pending-per-rider index, their tallies live in rider_profiles), while every offer written,
 * accepted, rejected or expired paid for an entry in this index: one index fewer per offer row.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS dispatch_offers_rider_id_created_at_index');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('dispatch_offers', (t) => {
    t.index(['rider_id', 'created_at']);
  });
}
