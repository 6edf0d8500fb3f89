import type { Redis } from 'ioredis';
import { cellId, cellOf } from '../domain/location/cells.ts';
import type { LocationPoint } from '../domain/location/point.ts';
import { isCluster } from '../runtime/redis-cluster.ts';
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
const RIDERS_PER_CALL = 500;

/**
 * Compare-and-set on recordedAt: only a newer point moves a rider, so batches applied out of
 * order, or by two workers at once, converge on the newest position. A point that moved the rider
 * is published on the rider's channel by the script itself (PUBLISH needs no key, so this holds on
 * Redis Cluster too).
 *
 * KEYS: riders' hashes. ARGV: per rider (in KEYS order) recordedAt, lat, lng, speed, heading,
 * accuracy, cell, TTL seconds, channel ('' for none), message. Returns per rider: advanced (0|1),
 * status, previous cell. On one Redis a batch's riders are one call; on Redis Cluster, where a
 * script's keys must share a slot, one call per rider.
 */
const ADVANCE = `
local out = {}
for k = 1, #KEYS do
  local key = KEYS[k]
  local a = (k - 1) * 10
  local known = redis.call('HMGET', key, 'recordedAt', 'status', 'cell', 'speedEwma')
  local status = known[2] or 'offline'
  local previous = known[3] or ''
  if tonumber(ARGV[a + 1]) <= tonumber(known[1] or '-1') then
    out[#out + 1] = 0
  else
    redis.call('HSET', key, 'recordedAt', ARGV[a + 1], 'lat', ARGV[a + 2], 'lng', ARGV[a + 3], 'speed', ARGV[a + 4], 'heading', ARGV[a + 5], 'accuracy', ARGV[a + 6], 'cell', ARGV[a + 7])
    -- The rider's recent speed for ETAs: an exponentially weighted average of reported speeds.
    if ARGV[a + 4] ~= '' then
      local ewma = tonumber(ARGV[a + 4])
      local before = tonumber(known[4] or '')
      if before then ewma = 0.3 * ewma + 0.7 * before end
      redis.call('HSET', key, 'speedEwma', tostring(ewma))
    end
    redis.call('EXPIRE', key, ARGV[a + 8])
    if ARGV[a + 9] ~= '' then redis.call('PUBLISH', ARGV[a + 9], ARGV[a + 10]) end
    out[#out + 1] = 1
  end
  out[#out + 1] = status
  out[#out + 1] = previous
end
return out`;

export interface RiderState {
  /** `announce` gives, per point, the channel and message to publish if the point moves its rider. */
  advance(points: LocationPoint[], announce?: (point: LocationPoint) => [channel: string, message: string]): Promise<Advance[]>;
  setStatus(riderId: string, status: RiderStatus): Promise<RiderLive | undefined>;
  /**
   * Busy → available in one step, for a rider whose offer or order has ended: a rider who went
   * offline (or whom anything else moved) meanwhile is left as they are. The rider as now stored
   * when freed, else undefined.
   */
  freeIfBusy(riderId: string): Promise<RiderLive | undefined>;
  /** {@link setStatus} for several riders: one round trip. One result per rider, in order. */
  setStatuses(riderIds: readonly string[], status: RiderStatus): Promise<Array<RiderLive | undefined>>;
  get(riderId: string): Promise<RiderLive | undefined>;
  getMany(riderIds: string[]): Promise<Array<RiderLive | undefined>>;
  /** Position and recent speed (EWMA of reported speeds, m/s) for ETAs. */
  motion(riderIds: string[]): Promise<Array<{ lat: number; lng: number; speedEwma: number | null } | undefined>>;
  /** Just what nearby needs to filter and show candidates: status, the position and when it was taken. */
  availability(riderIds: string[]): Promise<Array<{ status: RiderStatus | null; recordedAt: number; lat: number; lng: number }>>;
}

export function createRiderState(redis: Redis, keys: LocationKeys): RiderState {
  // On one Redis ADVANCE takes any number of riders' keys, the count first. On a cluster each call
  // has one key, given first: that is where the cross-slot pipeline (redis-cluster.ts) routes it.
  redis.defineCommand('deligoAdvanceRiders', { lua: ADVANCE });
  redis.defineCommand('deligoAdvanceRider', { numberOfKeys: 1, lua: ADVANCE });
  type Advancing = Record<'deligoAdvanceRiders' | 'deligoAdvanceRider', (...keysAndArgs: Array<string | number>) => unknown>;
  const oneCall = !isCluster(redis);
  const read = (riderId: string, values: Array<string | null>) => parse(riderId, values);
  const FIELDS = ['status', 'lat', 'lng', 'recordedAt', 'speed', 'heading', 'accuracy', 'cell'] as const;
  // Every change is also noted in the fleet index the ops map reads (after the commands whose replies are read).
  const fleet = createFleetIndex(redis, keys);
  // Compare-and-set on the rider's status (one key, so on Redis Cluster too); the fields as read() takes them.
  redis.defineCommand('deligoFreeIfBusy', {
    numberOfKeys: 1,
    lua: `if redis.call('HGET', KEYS[1], 'status') ~= 'busy' then return false end
redis.call('HSET', KEYS[1], 'status', 'available')
redis.call('EXPIRE', KEYS[1], ARGV[1])
return redis.call('HMGET', KEYS[1], ${FIELDS.map((f) => `'${f}'`).join(', ')})`,
  });
  type Freeing = { deligoFreeIfBusy(key: string, ttlSeconds: number): Promise<Array<string | null> | null> };
  const setStatuses: RiderState['setStatuses'] = async (riderIds, status) => {
    if (riderIds.length === 0) return [];
    // One round trip: each rider's own commands run in order (one key), and the fleet index's
    // notes for the ops map come after the replies that are read.
    const pipeline = redis.pipeline();
    for (const riderId of riderIds) pipeline.hset(keys.rider(riderId), 'status', status).expire(keys.rider(riderId), TTL_SECONDS).hmget(keys.rider(riderId), ...FIELDS);
    const now = Date.now();
    fleet.setStatuses(pipeline, riderIds, status, now);
    const replies = (await pipeline.exec())!;
    for (const [err] of replies) if (err) throw err;
    return riderIds.map((riderId, i) => read(riderId, replies[3 * i + 2]![1] as Array<string | null>));
  };
  return {
    /** One point per rider: its newest in the batch. */
    async advance(points, announce) {
      if (points.length === 0) return [];
      const pipeline = redis.pipeline();
      const cells = points.map((p) => cellId(cellOf(p.lat, p.lng)));
      const call = (from: number, to: number) => {
        const riderKeys: string[] = [];
        const args: Array<string | number> = [];
        for (let i = from; i < to; i++) {
          const p = points[i]!;
          const [channel, message] = announce ? announce(p) : ['', ''];
          riderKeys.push(keys.rider(p.riderId));
          args.push(p.recordedAt, p.lat, p.lng, p.speed ?? '', p.heading ?? '', p.accuracy ?? '', cells[i]!, TTL_SECONDS, channel, message);
        }
        if (oneCall) (pipeline as unknown as Advancing).deligoAdvanceRiders(riderKeys.length, ...riderKeys, ...args);
        else (pipeline as unknown as Advancing).deligoAdvanceRider(riderKeys[0]!, ...args);
      };
      // At most RIDERS_PER_CALL riders a call keeps the arguments of one call well within a JS spread.
      const step = oneCall ? RIDERS_PER_CALL : 1;
      let calls = 0;
      for (let i = 0; i < points.length; i += step, calls++) call(i, Math.min(points.length, i + step));
      fleet.place(pipeline, points, Date.now());
      const results = (await pipeline.exec()) ?? [];
      const replies: Array<number | string> = [];
      for (let c = 0; c < calls; c++) {
        const [err, reply] = results[c] ?? [new Error('no reply'), null];
        if (err) throw err;
        replies.push(...(reply as Array<number | string>));
      }
      return points.map((p, i) => ({ riderId: p.riderId, advanced: replies[3 * i] === 1, status: replies[3 * i + 1] as RiderStatus, cell: cells[i]!, previousCell: replies[3 * i + 2] as string }));
    },
    async setStatus(riderId, status) {
      return (await setStatuses([riderId], status))[0];
    },
    async freeIfBusy(riderId) {
      const values = await (redis as unknown as Freeing).deligoFreeIfBusy(keys.rider(riderId), TTL_SECONDS);
      if (!values) return undefined;
      // The ops map's fleet index hears of it as of any status change.
      const pipeline = redis.pipeline();
      fleet.setStatus(pipeline, riderId, 'available', Date.now());
      for (const [err] of (await pipeline.exec())!) if (err) throw err;
      return read(riderId, values);
    },
    setStatuses,
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
