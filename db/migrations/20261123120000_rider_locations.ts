import type { Knex } from 'knex';

/**
 * Raw rider fixes, partitioned by hour (UTC) so retention drops whole partitions instead of
 * deleting rows. There is deliberately no DEFAULT partition: a point outside the prepared window
 * must fail loudly (the ingest checks the window; `location.partitions` keeps it ahead of time).
 * The partitions for the last 25 h and next 3 h are made here so a fresh install works at once.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE rider_locations (
      rider_id text NOT NULL,
      recorded_at timestamptz NOT NULL,
      lat double precision NOT NULL,
      lng double precision NOT NULL,
      speed real,
      heading real,
      accuracy real,
      mocked boolean NOT NULL DEFAULT false,
      flagged boolean NOT NULL DEFAULT false,
      received_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (rider_id, recorded_at)
    ) PARTITION BY RANGE (recorded_at)`);
  // Rows arrive roughly in time order, so a tiny BRIN index lets the rollup read a minute range
  // without scanning the whole hour.
  await knex.raw('CREATE INDEX rider_locations_recorded_at_brin ON rider_locations USING brin (recorded_at)');
  await knex.raw(`
    DO $$
    DECLARE h timestamptz;
    BEGIN
      FOR h IN SELECT generate_series(date_trunc('hour', now(), 'UTC') - interval '25 hours',
                                      date_trunc('hour', now(), 'UTC') + interval '3 hours', interval '1 hour')
      LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF rider_locations FOR VALUES FROM (%L) TO (%L)',
          'rider_locations_p' || to_char(h AT TIME ZONE 'UTC', 'YYYYMMDDHH24'), h, h + interval '1 hour');
      END LOOP;
    END $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE rider_locations');
}
