import type { Knex } from 'knex';

/**
 * One row per rider and minute, partitioned by UTC day and kept 7 days; plus the single progress
 * row that lets the rollup job resume where it stopped after downtime. Partitions for the last
 * 8 days and next 2 are made here; `location.partitions` keeps the window moving.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE rider_location_rollups (
      rider_id text NOT NULL,
      minute timestamptz NOT NULL,
      last_lat double precision NOT NULL,
      last_lng double precision NOT NULL,
      last_recorded_at timestamptz NOT NULL,
      point_count integer NOT NULL,
      distance_m double precision NOT NULL DEFAULT 0,
      max_speed real,
      flagged_count integer NOT NULL DEFAULT 0,
      PRIMARY KEY (rider_id, minute)
    ) PARTITION BY RANGE (minute)`);
  // '24 hours', not '1 day': day arithmetic on timestamptz follows the session zone's DST rules.
  await knex.raw(`
    DO $$
    DECLARE d timestamptz;
    BEGIN
      FOR d IN SELECT generate_series(date_trunc('day', now(), 'UTC') - interval '192 hours',
                                      date_trunc('day', now(), 'UTC') + interval '48 hours', interval '24 hours')
      LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF rider_location_rollups FOR VALUES FROM (%L) TO (%L)',
          'rider_location_rollups_p' || to_char(d AT TIME ZONE 'UTC', 'YYYYMMDD'), d, d + interval '24 hours');
      END LOOP;
    END $$`);
  await knex.raw(`
    CREATE TABLE location_rollup_progress (
      id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
      last_minute timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
  // NULL: nothing rolled yet, so the job starts from the oldest raw minute still kept.
  await knex.raw('INSERT INTO location_rollup_progress (id, last_minute) VALUES (1, NULL)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE location_rollup_progress');
  await knex.raw('DROP TABLE rider_location_rollups');
}
