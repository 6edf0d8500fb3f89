import type { Redis } from 'ioredis';
import { cellId, cellOf } from '../domain/location/cells.ts';
import type { LocationPoint } from '../domain/location/point.ts';
import { createFleetIndex } from './fleet-index.ts';
import type { LocationKeys } from './keys.ts';

export type RiderStatus = 'available' | 'busy' | 'offline';

export interface RiderLive {
  riderId: string;
  status: RiderStatus;
  lat: number;
  lng: number;
  recordedAt: number;
  speed: number | null;
  heading: number | null;
  accuracy: number | null;
  cell: string;
}

export interface Advance {
  riderId: string;
  /** False when a newer point was already known: the position did not change. */
  advanced: boolean;
  status: RiderStatus;
  cell: string;
  previousCell: string;
}

/** Live state expires a day after a rider's last point, bounding Redis memory. */
const TTL_SECONDS = 24 * 3600;

/**
 * Compare-and-set on recordedAt: only a newer point moves a rider, so batches applied out of
 * order, or by two workers at once, converge on the newest position. A point that moved the rider
 * is published on the rider's channel (ARGV[9], message ARGV[10]; '' for none) by the script
 * itself: one command per rider and batch instead of two.
 */
const ADVANCE = `
local current = tonumber(redis.call('HGET', KEYS[1], 'recordedAt') or '-1')
local status = redis.call('HGET', KEYS[1], 'status') or 'offline'
local previous = redis.call('HGET', KEYS[1], 'cell') or ''
if tonumber(ARGV[1]) <= current then return {0, status, previous} end
redis.call('HSET', KEYS[1], 'recordedAt', ARGV[1], 'lat', ARGV[2], 'lng', ARGV[3], 'speed', ARGV[4], 'heading', ARGV[5], 'accuracy', ARGV[6], 'cell', ARGV[7])
-- The rider's recent speed for ETAs: an exponentially weighted average of reported speeds.
if ARGV[4] ~= '' then
  local previous = tonumber(redis.call('HGET', KEYS[1], 'speedEwma') or '')
  local ewma = tonumber(ARGV[4])
  if previous then ewma = 0.3 * ewma + 0.7 * previous end
  redis.call('HSET', KEYS[1], 'speedEwma', tostring(ewma))
end
redis.call('EXPIRE', KEYS[1], ARGV[8])
-- Watchers hear of the new position in the same command (PUBLISH needs no key, so this also holds on Redis Cluster).
if ARGV[9] ~= '' then redis.call('PUBLISH', ARGV[9], ARGV[10]) end
return {1, status, previous}`;

export interface RiderState {
  /** `announce` gives, per point, the channel and message to publish if the point moves its rider. */
  advance(points: LocationPoint[], announce?: (point: LocationPoint) => [channel: string, message: string]): Promise<Advance[]>;
  setStatus(riderId: string, status: RiderStatus): Promise<RiderLive | undefined>;
  get(riderId: string): Promise<RiderLive | undefined>;
  getMany(riderIds: string[]): Promise<Array<RiderLive | undefined>>;
  /** Position and recent speed (EWMA of reported speeds, m/s) for ETAs. */
  motion(riderIds: string[]): Promise<Array<{ lat: number; lng: number; speedEwma: number | null } | undefined>>;
  /** Just what nearby needs to filter and show candidates: status, the position and when it was taken. */
  availability(riderIds: string[]): Promise<Array<{ status: RiderStatus | null; recordedAt: number; lat: number; lng: number }>>;
}

export function createRiderState(redis: Redis, keys: LocationKeys): RiderState {
  redis.defineCommand('deligoAdvanceRider', { numberOfKeys: 1, lua: ADVANCE });
  const run = redis as Redis & { deligoAdvanceRider(key: string, ...args: Array<string | number>): Promise<[number, string, string]> };
  const read = (riderId: string, values: Array<string | null>) => parse(riderId, values);
  const FIELDS = ['status', 'lat', 'lng', 'recordedAt', 'speed', 'heading', 'accuracy', 'cell'] as const;
  // Every change is also noted in the fleet index the ops map reads (after the commands whose replies are read).
  const fleet = createFleetIndex(redis, keys);
  return {
    /** One point per rider: its newest in the batch. */
    async advance(points, announce) {
      const pipeline = redis.pipeline();
      const cells = points.map((p) => cellId(cellOf(p.lat, p.lng)));
      points.forEach((p, i) => {
        const [channel, message] = announce ? announce(p) : ['', ''];
        (pipeline as unknown as typeof run).deligoAdvanceRider(keys.rider(p.riderId), p.recordedAt, p.lat, p.lng, p.speed ?? '', p.heading ?? '', p.accuracy ?? '', cells[i]!, TTL_SECONDS, channel, message);
      });
      fleet.place(pipeline, points, Date.now());
      const results = (await pipeline.exec()) ?? [];
      return points.map((p, i) => {
        const [err, reply] = results[i] ?? [new Error('no reply'), null];
        if (err) throw err;
        const [advanced, status, previousCell] = reply as [number, RiderStatus, string];
        return { riderId: p.riderId, advanced: advanced === 1, status, cell: cells[i]!, previousCell };
      });
    },
    async setStatus(riderId, status) {
      // One round trip: the rider's own commands run in order (one key), and the fleet index's note
      // for the ops map comes after the reply that is read.
      const pipeline = redis.pipeline().hset(keys.rider(riderId), 'status', status).expire(keys.rider(riderId), TTL_SECONDS).hmget(keys.rider(riderId), ...FIELDS);
      fleet.setStatus(pipeline, riderId, status, Date.now());
      const replies = (await pipeline.exec())!;
      for (const [err] of replies) if (err) throw err;
      return read(riderId, replies[2]![1] as Array<string | null>);
    },
    async get(riderId) {
      return read(riderId, await redis.hmget(keys.rider(riderId), ...FIELDS));
    },
    async motion(riderIds) {
      if (riderIds.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of riderIds) pipeline.hmget(keys.rider(id), 'lat', 'lng', 'speedEwma');
      const results = (await pipeline.exec()) ?? [];
      return results.map(([, reply]) => {
        const [lat, lng, speedEwma] = (reply as Array<string | null>) ?? [];
        if (lat == null || lng == null) return undefined;
        return { lat: Number(lat), lng: Number(lng), speedEwma: speedEwma == null ? null : Number(speedEwma) };
      });
    },
    async availability(riderIds) {
      if (riderIds.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of riderIds) pipeline.hmget(keys.rider(id), 'status', 'recordedAt', 'lat', 'lng');
      const results = (await pipeline.exec()) ?? [];
      return results.map(([err, reply]) => {
        if (err) throw err;
        const [status, recordedAt, lat, lng] = reply as Array<string | null>;
        // No position (a status set before any point) reads as never recorded: not fresh.
        const placed = lat != null && lng != null;
        return { status: (status as RiderStatus | null) ?? null, recordedAt: placed ? Number(recordedAt ?? 0) : 0, lat: Number(lat), lng: Number(lng) };
      });
    },
    async getMany(riderIds) {
      if (riderIds.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of riderIds) pipeline.hmget(keys.rider(id), ...FIELDS);
      const results = (await pipeline.exec()) ?? [];
      return riderIds.map((id, i) => read(id, (results[i]?.[1] as Array<string | null>) ?? []));
    },
  };
}

function parse(riderId: string, [status, lat, lng, recordedAt, speed, heading, accuracy, cell]: Array<string | null>): RiderLive | undefined {
  if (lat == null || lng == null || recordedAt == null) {
    // A rider who set a status but never sent a point has no position yet.
    return status ? { riderId, status: status as RiderStatus, lat: NaN, lng: NaN, recordedAt: 0, speed: null, heading: null, accuracy: null, cell: '' } : undefined;
  }
  const num = (v: string | null | undefined) => (v == null || v === '' ? null : Number(v));
  return {
    riderId,
    status: (status as RiderStatus | null) ?? 'offline',
    lat: Number(lat),
    lng: Number(lng),
    recordedAt: Number(recordedAt),
    speed: num(speed),
    heading: num(heading),
    accuracy: num(accuracy),
    cell: cell ?? '',
  };
}
