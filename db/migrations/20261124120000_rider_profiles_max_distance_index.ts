import type { Knex } from 'knex';

/**
 * The farthest any rider will ride to a pickup is read whenever dispatch widens past the default
 * (db/rider-profiles-repository.ts: farthestPickupMeters): with this index that is one index entry, not a
 * scan of every profile. Profile updates that leave the maximum alone (every offer's tally) stay HOT.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX IF NOT EXISTS rider_profiles_max_distance ON rider_profiles (max_distance_m)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS rider_profiles_max_distance');
}
