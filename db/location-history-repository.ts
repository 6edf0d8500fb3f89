import type { Knex } from 'knex';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { LocationPoint } from '../domain/location/point.ts';
import { keptArray, preparedQuery } from './prepared.ts';

/** A point as history keeps it: what the phone sent, plus whether fraud rules flagged it. */
export interface StoredPoint extends LocationPoint {
  flagged: boolean;
}

/** One rider's minute from `rider_location_rollups`. Times are epoch ms. */
export interface MinuteRollup {
  riderId: string;
  minute: number;
  /** Last unflagged fix of the minute (a flagged one only if all were flagged). */
  lastLat: number;
  lastLng: number;
  lastRecordedAt: number;
  pointCount: number;
  /** Metres between consecutive unflagged points, each segment counted in the minute it ends. */
  distanceM: number;
  /** m/s: reported speed, or implied by the segment when the phone sent none. Null if none. */
  maxSpeed: number | null;
  flaggedCount: number;
}

const COLUMNS = 'rider_id, recorded_at, lat, lng, speed, heading, accuracy, mocked';

/**
 * Bulk-writes points with COPY. COPY cannot skip duplicates, so it fills a per-connection
 * staging table and one INSERT … ON CONFLICT DO NOTHING moves the new rows over: a retried batch,
 * or one overlapping an earlier batch, stores each (rider, recordedAt) once.
 * Every point must fall in an existing hourly partition, otherwise the whole batch fails.
 * Returns how many rows were new.
 */
export async function copyPoints(db: Knex, points: readonly LocationPoint[]): Promise<number> {
  if (points.length === 0) return 0;
  // Encode before opening the transaction: a bad number fails here without touching Postgres.
  const body = points.map(copyLine).join('');
  return db.transaction(async (trx) => {
    // One staging table per pooled connection, emptied at each commit: creating and dropping a
    // table per batch would churn the system catalogs at tens of batches a second.
    await trx.raw(`CREATE TEMP TABLE IF NOT EXISTS rider_locations_staging (
      rider_id text, recorded_at timestamptz, lat double precision, lng double precision,
      speed real, heading real, accuracy real, mocked boolean) ON COMMIT DELETE ROWS`);
    // Inside a transaction knex hands out the transaction's own connection (its search_path was
    // set by knex when the connection was opened), and releasing it is a no-op.
    const conn = (await trx.client.acquireConnection()) as Client;
    await pipeline(Readable.from([body]), conn.query(copyFrom(`COPY rider_locations_staging (${COLUMNS}) FROM STDIN`)));
    const result = await trx.raw<{ rowCount: number | null }>(
      `INSERT INTO rider_locations (${COLUMNS}) SELECT ${COLUMNS} FROM rider_locations_staging ON CONFLICT DO NOTHING`,
    );
    return result.rowCount ?? 0;
  });
}

/** Marks points as fraud-flagged; they then count in `flagged_count` but add no distance. */
export async function markFlagged(db: Knex, riderId: string, recordedAts: readonly number[]): Promise<number> {
  if (recordedAts.length === 0) return 0;
  return db('rider_locations')
    .where('rider_id', riderId)
    .whereIn('recorded_at', recordedAts.map(iso))
    .where('flagged', false)
    .update({ flagged: true });
}

/** Raw points of one rider in [from, to), oldest first. Raw history goes back 24 h. */
export async function trackPoints(db: Knex, riderId: string, from: number, to: number, limit = 20_000): Promise<StoredPoint[]> {
  const rows = await db('rider_locations')
    .where('rider_id', riderId)
    .where('recorded_at', '>=', iso(from))
    .where('recorded_at', '<', iso(to))
    .orderBy('recorded_at')
    .limit(limit)
    .select('rider_id', 'recorded_at', 'lat', 'lng', 'speed', 'heading', 'accuracy', 'mocked', 'flagged');
  return rows.map(storedPoint);
}

interface PointRow {
  rider_id: string;
  recorded_at: Date;
  lat: number;
  lng: number;
  speed: number | null;
  heading: number | null;
  accuracy: number | null;
  mocked: boolean;
  flagged: boolean;
}

const storedPoint = (r: PointRow): StoredPoint => ({
  riderId: r.rider_id,
  recordedAt: r.recorded_at.getTime(),
  lat: r.lat,
  lng: r.lng,
  speed: r.speed,
  heading: r.heading,
  accuracy: r.accuracy,
  mocked: r.mocked,
  flagged: r.flagged,
});

/**
 * Prepared, its plan kept (db/prepared.ts): over a day of hourly partitions, planning it took a
 * millisecond or more, most of each archive job's read (the partitions a ride needs are chosen as
 * it runs, from each ride's window).
 */
const TRACK_POINTS_OF_RIDES = `
  SELECT i.ride, l.rider_id, l.recorded_at, l.lat, l.lng, l.speed, l.heading, l.accuracy, l.mocked, l.flagged
    FROM unnest(${keptArray(1, 'text')}, ${keptArray(2, 'timestamptz')}, ${keptArray(3, 'timestamptz')}) WITH ORDINALITY AS i(rider_id, from_at, to_at, ride)
    CROSS JOIN LATERAL (
      SELECT * FROM rider_locations l
       WHERE l.rider_id = i.rider_id AND l.recorded_at >= i.from_at AND l.recorded_at < i.to_at
       ORDER BY l.recorded_at LIMIT $4) l
   ORDER BY i.ride, l.recorded_at`;

/**
 * {@link trackPoints} for several rides at once (one archive job's batch of delivered orders): each
 * ride's points of its rider in [from, to), oldest first, at most `limit` each, in one statement.
 */
export async function trackPointsOfRides(db: Knex, rides: ReadonlyArray<{ riderId: string; from: number; to: number }>, limit = 20_000): Promise<StoredPoint[][]> {
  if (rides.length === 0) return [];
  const rows = await preparedQuery<PointRow & { ride: string }>(db, 'location.track-points-of-rides', TRACK_POINTS_OF_RIDES, [
    rides.map((r) => r.riderId),
    rides.map((r) => iso(r.from)),
    rides.map((r) => iso(r.to)),
    limit,
  ]);
  const out: StoredPoint[][] = rides.map(() => []);
  // WITH ORDINALITY counts from 1, as a bigint (a string here).
  for (const r of rows) out[Number(r.ride) - 1]!.push(storedPoint(r));
  return out;
}

/** Minute rollups of one rider whose minute starts in [from, to), oldest first. Kept 7 days. */
export async function trackMinutes(db: Knex, riderId: string, from: number, to: number, limit = 20_000): Promise<MinuteRollup[]> {
  const rows = await db('rider_location_rollups')
    .where('rider_id', riderId)
    .where('minute', '>=', iso(from))
    .where('minute', '<', iso(to))
    .orderBy('minute')
    .limit(limit)
    .select('*');
  return rows.map((r) => ({
    riderId: r.rider_id,
    minute: (r.minute as Date).getTime(),
    lastLat: r.last_lat,
    lastLng: r.last_lng,
    lastRecordedAt: (r.last_recorded_at as Date).getTime(),
    pointCount: r.point_count,
    distanceM: r.distance_m,
    maxSpeed: r.max_speed,
    flaggedCount: r.flagged_count,
  }));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One row in COPY's text format: tab-separated, `\N` for null, backslash escapes in text. */
function copyLine(p: LocationPoint): string {
  if (!Number.isFinite(p.recordedAt)) throw new RangeError(`recordedAt is not a time: ${p.recordedAt}`);
  const fields = [
    p.riderId.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!),
    iso(p.recordedAt),
    num(p.lat, 'lat'),
    num(p.lng, 'lng'),
    optional(p.speed, 'speed'),
    optional(p.heading, 'heading'),
    optional(p.accuracy, 'accuracy'),
    p.mocked ? 't' : 'f',
  ];
  return `${fields.join('\t')}\n`;
}

function num(value: number, field: string): string {
  // Postgres would accept "NaN" and "Infinity" as floats; a fix never has them.
  if (!Number.isFinite(value)) throw new RangeError(`${field} is not a finite number: ${value}`);
  return String(value);
}

function optional(value: number | null, field: string): string {
  return value === null ? '\\N' : num(value, field);
}
