import type { Knex } from 'knex';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Options of one rollup run. */
export interface RollupOptions {
  /** The clock (epoch ms); a parameter so catch-up can be replayed and tested. */
  now: number;
  /** Most minutes rolled in one run, so catch-up after downtime goes in bounded steps. Default 60. */
  maxMinutes?: number;
  /**
   * A minute is rolled once it ended at least this long ago, so points that arrive a little late
   * still count. Default 60 000 (a minute is rolled 1–2 min after it ends).
   */
  lateMs?: number;
  /** Raw points are kept this long, so a run never starts further back. Default 24. */
  rawHours?: number;
  /**
   * Consecutive points further apart in time add no distance: the path between them is unknown.
   * It also bounds how far before a run's first minute points are read. Default 120 000.
   */
  maxGapMs?: number;
}

/** What one run did. `from`/`to` bound the minutes rolled, [from, to), epoch ms. */
export interface RollupRun {
  from: number;
  to: number;
  minutes: number;
  /** Rider-minutes written (inserted or recomputed). */
  rows: number;
  /** True when every closed minute is now rolled up. */
  caughtUp: boolean;
}

/**
 * Distance is the haversine (mean Earth radius 6 371 008.8 m) between consecutive unflagged
 * points of a rider, counted in the minute where the segment ends. The lag runs over rows of the
 * same rider *and* flag, so an unflagged point's predecessor is the previous unflagged one: a
 * flagged jump neither adds distance nor breaks the segment around it.
 * Bindings: lookback start, run end, gap (interval), run start.
 */
const ROLLUP_SQL = `
WITH pts AS (
  SELECT rider_id, recorded_at, lat, lng, speed, flagged,
         lag(recorded_at) OVER w AS prev_at, lag(lat) OVER w AS prev_lat, lag(lng) OVER w AS prev_lng
    FROM rider_locations
   WHERE recorded_at >= ?::timestamptz AND recorded_at < ?::timestamptz
  WINDOW w AS (PARTITION BY rider_id, flagged ORDER BY recorded_at)
), seg AS (
  SELECT rider_id, date_trunc('minute', recorded_at, 'UTC') AS minute, recorded_at, lat, lng, speed, flagged,
         CASE WHEN NOT flagged AND prev_at >= recorded_at - ?::interval THEN
           2 * 6371008.8 * asin(least(1, sqrt(
             power(sin(radians(lat - prev_lat) / 2), 2)
             + cos(radians(prev_lat)) * cos(radians(lat)) * power(sin(radians(lng - prev_lng) / 2), 2))))
         END AS dist_m,
         extract(epoch FROM recorded_at - prev_at)::float8 AS dt_s
    FROM pts
   WHERE recorded_at >= ?::timestamptz
)
INSERT INTO rider_location_rollups
  (rider_id, minute, last_lat, last_lng, last_recorded_at, point_count, distance_m, max_speed, flagged_count)
SELECT rider_id, minute,
       (array_agg(lat ORDER BY flagged, recorded_at DESC))[1],
       (array_agg(lng ORDER BY flagged, recorded_at DESC))[1],
       (array_agg(recorded_at ORDER BY flagged, recorded_at DESC))[1],
       count(*),
       coalesce(sum(dist_m), 0),
       max(coalesce(speed, dist_m / nullif(dt_s, 0))) FILTER (WHERE NOT flagged),
       count(*) FILTER (WHERE flagged)
  FROM seg
 GROUP BY rider_id, minute
ON CONFLICT (rider_id, minute) DO UPDATE SET
  last_lat = EXCLUDED.last_lat, last_lng = EXCLUDED.last_lng, last_recorded_at = EXCLUDED.last_recorded_at,
  point_count = EXCLUDED.point_count, distance_m = EXCLUDED.distance_m, max_speed = EXCLUDED.max_speed,
  flagged_count = EXCLUDED.flagged_count`;

/**
 * Rolls up the closed minutes after the recorded progress, at most `maxMinutes` of them, with one
 * INSERT … SELECT, and advances the progress in the same transaction. Re-rolling a minute
 * recomputes it, so a crash between the two changes nothing. The progress row is locked for the
 * run, so concurrent runs queue rather than double up.
 */
export async function rollUpMinutes(db: Knex, options: RollupOptions): Promise<RollupRun> {
  const { now, maxMinutes = 60, lateMs = 60_000, rawHours = 24, maxGapMs = 120_000 } = options;
  const closedEnd = floorMinute(now - lateMs);
  const oldest = floorMinute(now) - rawHours * HOUR;
  return db.transaction(async (trx) => {
    const last = await lockProgress(trx);
    // Minutes older than raw retention have no points left: skip them rather than scan nothing.
    const from = Math.max(last === null ? oldest : last + MINUTE, oldest);
    const to = Math.min(from + maxMinutes * MINUTE, closedEnd);
    if (to <= from) return { from, to: from, minutes: 0, rows: 0, caughtUp: true };
    const result = await trx.raw<{ rowCount: number | null }>(ROLLUP_SQL, [
      iso(from - maxGapMs),
      iso(to),
      `${maxGapMs} milliseconds`,
      iso(from),
    ]);
    await trx('location_rollup_progress').where({ id: 1 }).update({ last_minute: iso(to - MINUTE), updated_at: trx.fn.now() });
    return { from, to, minutes: (to - from) / MINUTE, rows: result.rowCount ?? 0, caughtUp: to === closedEnd };
  });
}

/** Start of the last minute fully rolled up (epoch ms), or null before the first run. */
export async function rollupProgress(db: Knex): Promise<number | null> {
  const row = await db('location_rollup_progress').where({ id: 1 }).first('last_minute');
  return row?.last_minute ? (row.last_minute as Date).getTime() : null;
}

async function lockProgress(trx: Knex.Transaction): Promise<number | null> {
  const read = () => trx('location_rollup_progress').where({ id: 1 }).forUpdate().first('last_minute');
  let row = await read();
  if (!row) {
    // The migration writes the row; this only restores it if someone removed it.
    await trx('location_rollup_progress').insert({ id: 1, last_minute: null }).onConflict('id').ignore();
    row = await read();
  }
  return row?.last_minute ? (row.last_minute as Date).getTime() : null;
}

function floorMinute(ms: number): number {
  return Math.floor(ms / MINUTE) * MINUTE;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
