import type { Knex } from 'knex';

/**
 * What dispatch knows of riders in Postgres: their profiles (seed 003's preferences and their
 * acceptance record), how far any of them rides to a pickup, and their fraud suspensions.
 */

export interface ProfileRow {
  rider_id: string;
  max_distance_m: number;
  auto_accept: boolean;
  offers_received: number;
  offers_accepted: number;
}

/** How far a rider without a profile row rides to a pickup (the column's default). */
export const DEFAULT_MAX_DISTANCE_M = 3_000;

/**
 * The farthest any rider will ride to a pickup: no rider farther than this from a restaurant can be
 * offered its orders (ranking leaves out riders beyond their own maximum). One index entry
 * (rider_profiles_max_distance).
 */
export async function farthestPickupMeters(db: Knex): Promise<number> {
  const { rows } = await db.raw<{ rows: Array<{ m: number }> }>('SELECT greatest(?::int, (SELECT max(max_distance_m) FROM rider_profiles)) AS m', [DEFAULT_MAX_DISTANCE_M]);
  return Number(rows[0]!.m);
}

/** What a rider may set about the offers they get (seed 003: maxDistance, autoAccept). */
export interface RiderPreferences {
  maxDistanceMeters?: number;
  autoAccept?: boolean;
}

/**
 * Sets a rider's preferences, creating their profile if they have none yet; what is not given stays
 * as it was (or the default). Returns the whole profile as it now stands, for the dispatch cache.
 */
export async function setRiderPreferences(db: Knex, riderId: string, preferences: RiderPreferences): Promise<ProfileRow> {
  const { rows } = await db.raw<{ rows: ProfileRow[] }>(
    `INSERT INTO rider_profiles (rider_id, max_distance_m, auto_accept) VALUES (:riderId, coalesce(:max::int, ${DEFAULT_MAX_DISTANCE_M}), coalesce(:auto::boolean, false))
     ON CONFLICT (rider_id) DO UPDATE SET max_distance_m = coalesce(:max::int, rider_profiles.max_distance_m),
                                          auto_accept = coalesce(:auto::boolean, rider_profiles.auto_accept), updated_at = now()
     RETURNING rider_id, max_distance_m, auto_accept, offers_received, offers_accepted`,
    { riderId, max: preferences.maxDistanceMeters ?? null, auto: preferences.autoAccept ?? null },
  );
  return rows[0]!;
}

/** Each rider's dispatch profile as Postgres has it (defaults for riders without a row). */
export async function profilesOf(db: Knex, riderIds: readonly string[]): Promise<Map<string, ProfileRow>> {
  if (riderIds.length === 0) return new Map();
  const { rows } = await db.raw<{ rows: ProfileRow[] }>(
    `SELECT r.id AS rider_id,
            coalesce(p.max_distance_m, ${DEFAULT_MAX_DISTANCE_M}) AS max_distance_m, coalesce(p.auto_accept, false) AS auto_accept,
            coalesce(p.offers_received, 0) AS offers_received, coalesce(p.offers_accepted, 0) AS offers_accepted
       FROM unnest(:ids::text[]) AS r(id) LEFT JOIN rider_profiles p ON p.rider_id = r.id`,
    { ids: riderIds as unknown as Knex.RawBinding },
  );
  return new Map(rows.map((r) => [r.rider_id, r]));
}

/** Riders with a critical GPS-fraud finding stored since `since`, and their latest one. */
export async function suspendedRiders(db: Knex, since: Date): Promise<Array<{ rider_id: string; at: Date }>> {
  const { rows } = await db.raw<{ rows: Array<{ rider_id: string; at: Date }> }>(
    `SELECT rider_id, max(created_at) AS at FROM fraud_alerts WHERE severity = 'critical' AND created_at >= ? GROUP BY rider_id`,
    [since.toISOString()],
  );
  return rows;
}
