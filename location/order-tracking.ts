import type { Redis } from 'ioredis';
import type { LocationPoint } from '../domain/location/point.ts';
import type { StatusChange } from '../domain/orders/status-notifications.ts';
import { TERMINAL } from '../domain/orders/state-machine.ts';
import { createBatcher } from '../runtime/batcher.ts';
import { getEach } from '../runtime/redis-cluster.ts';

/** Route points kept per order for the tracking view (a 90-minute ride at one fix per 5 s). */
const ROUTE_MAX = 1_100;
/** Tracking state outlives delivery by a day, then goes. */
const TTL_SECONDS = 24 * 3600;

export interface TrackingView {
  orderId: string;
  status: string;
  version: number;
  customerId: string;
  restaurantId: string;
  riderId: string | null;
  restaurant: { lat: number; lng: number };
  dropoff: { lat: number; lng: number };
  etaAt: string | null;
  rider: { lat: number; lng: number; heading: number | null; speed: number | null; recordedAt: string } | null;
  route: Array<[number, number]>;
  updatedAt: string;
}

/** An active order as the ETA refresh sees it, read from the tracking state alone. */
export interface EtaSubject {
  orderId: string;
  status: string;
  riderId: string | null;
  restaurant: { lat: number; lng: number };
  dropoff: { lat: number; lng: number };
  etaAt: number | null;
  /** When the kitchen said the food would be ready (accepted at + cook minutes). */
  cookReadyAt: number | null;
}

/** A position update for an order's watchers, with what the geofences need. */
export interface OrderPosition {
  orderId: string;
  riderId: string;
  customerId: string;
  coCustomerId: string | null;
  restaurantId: string;
  status: string;
  point: LocationPoint;
  restaurant: { lat: number; lng: number };
  dropoff: { lat: number; lng: number };
}

/** The tracking view as stored: the visible JSON, ready to send, and who may read it. */
export interface TrackingJson {
  customerId: string;
  coCustomerId: string | null;
  restaurantId: string;
  riderId: string | null;
  /** The view without customerId, coCustomerId and restaurantId, serialized. */
  json: string;
}

/**
 * The live view of every active order, kept in Redis so tracking reads never touch Postgres:
 * status and ETA from committed changes, the rider's position and route from the location
 * worker. Each change is published on the order's channel for SSE watchers.
 */
export interface OrderTracking {
  channel(orderId: string): string;
  applyStatus(change: StatusChange): Promise<void>;
  attachRider(orderId: string, riderId: string): Promise<void>;
  /** Moves every active order whose rider moved; returns those orders. */
  applyPositions(moved: LocationPoint[]): Promise<OrderPosition[]>;
  read(orderId: string): Promise<TrackingView | undefined>;
  /** The same view as `read`, as stored: one Redis command, nothing parsed or re-serialized. */
  readJson(orderId: string): Promise<TrackingJson | undefined>;
  /** Records a recomputed ETA and tells the order's watchers. */
  updateEta(orderId: string, etaAt: string): Promise<void>;
  /**
   * The ETA index: active orders not refreshed since `before`, least recently refreshed first.
   * `scanned` counts the index entries looked at, including ones dropped because their order
   * ended or its tracking state expired.
   */
  dueForEta(before: number, limit: number): Promise<{ scanned: number; orders: EtaSubject[] }>;
  /** Marks orders refreshed at `at`, so the next page (and the next run) starts with others. */
  markRefreshed(orderIds: string[], at: number): Promise<void>;
  /**
   * Puts open orders (their latest committed state, as Postgres has it) back into Redis where
   * Redis lost them: the ETA index entry, the tracking view and the rider's link to the order.
   * Present state is left alone (the relay's newer writes win). Returns how many orders had
   * something missing.
   */
  restore(orders: StatusChange[]): Promise<number>;
}

/**
 * Every write to an order's view goes through this script, which keeps a pre-serialized copy of
 * the visible view in the same hash: `head` (everything but the route, ending in `"route":[`) and
 * `route` (`[lat,lng],[lat,lng],…`). A tracking read is then one HMGET whose strings are sent as
 * they are. Rebuilding `head` inside the script keeps it consistent with the fields under
 * concurrent writers (the relay's status changes, the location worker's positions).
 *
 * KEYS[1] the order's hash. ARGV: TTL seconds; a version the stored one must be below ('' for
 * any); a route point to append ('' for none); the most route points kept; then field, value pairs.
 * Returns 0 when the version check refused the write, else 1.
 */
const WRITE = `
local key = KEYS[1]
if ARGV[2] ~= '' and tonumber(ARGV[2]) <= tonumber(redis.call('HGET', key, 'version') or '0') then return 0 end
if #ARGV > 4 then redis.call('HSET', key, unpack(ARGV, 5)) end
if ARGV[3] ~= '' then
  local route = redis.call('HGET', key, 'route')
  local count = tonumber(redis.call('HGET', key, 'routeLength') or '0')
  if route and route ~= '' then route = route .. ',' .. ARGV[3]; count = count + 1 else route = ARGV[3]; count = 1 end
  while count > tonumber(ARGV[4]) do
    route = string.sub(route, string.find(route, '],[', 1, true) + 2)
    count = count - 1
  end
  redis.call('HSET', key, 'route', route, 'routeLength', count)
end
local f = redis.call('HMGET', key, 'orderId', 'status', 'version', 'riderId', 'restaurant', 'dropoff', 'etaAt', 'rider', 'updatedAt')
if f[2] then
  local function text(v) if v and v ~= '' then return cjson.encode(v) end return 'null' end
  local function raw(v) if v and v ~= '' then return v end return 'null' end
  redis.call('HSET', key, 'head', '{"orderId":' .. text(f[1]) .. ',"status":' .. text(f[2]) .. ',"version":' .. raw(f[3]) ..
    ',"riderId":' .. text(f[4]) .. ',"restaurant":' .. raw(f[5]) .. ',"dropoff":' .. raw(f[6]) .. ',"etaAt":' .. text(f[7]) ..
    ',"rider":' .. raw(f[8]) .. ',"updatedAt":' .. text(f[9]) .. ',"route":[')
end
redis.call('EXPIRE', key, ARGV[1])
return 1`;

type WriteCommand = (key: string, ttl: number, belowVersion: number | '', routePoint: string, routeMax: number, ...fields: Array<string | number>) => Promise<number>;

export function createOrderTracking(redis: Redis, prefix: string): OrderTracking {
  redis.defineCommand('deligoTrackingWrite', { numberOfKeys: 1, lua: WRITE });
  const write = (target: Redis | ReturnType<Redis['pipeline']>) => (target as unknown as { deligoTrackingWrite: WriteCommand }).deligoTrackingWrite.bind(target);
  // An order's keys share one hash tag, so they stay together on Redis Cluster.
  const key = (orderId: string) => `${prefix}:order-track:{order-${orderId}}`;
  const riderOrder = (riderId: string) => `${prefix}:rider-order:{${riderId}}`;
  const channel = (orderId: string) => `${prefix}:order-updates:{${orderId}}`;
  // Every active order, scored by when its ETA was last refreshed (0: never). Its own hash tag: on
  // Redis Cluster it is one slot, written once per status change and read in pages.
  const active = `${prefix}:orders-active:{eta}`;
  const publish = (orderId: string, event: Record<string, unknown>) => redis.publish(channel(orderId), JSON.stringify({ orderId, ...event }));
  const FIELDS = ['status', 'customerId', 'restaurantId', 'riderId', 'head', 'route', 'coCustomerId'] as const;
  // Reads arriving in the same event-loop turn (many customers polling at once) go to Redis as one
  // pipeline: one write and one reply to parse instead of one each, on both sides.
  const fetchViews = createBatcher(
    async (orderIds: string[]) => {
      const pipeline = redis.pipeline();
      for (const orderId of orderIds) pipeline.hmget(key(orderId), ...FIELDS);
      return ((await pipeline.exec()) ?? []).map(([err, reply]) => {
        if (err) throw err;
        return reply as Array<string | null>;
      });
    },
    { maxWaitMs: 0, maxSize: 256 },
  );
  const readJson = async (orderId: string): Promise<TrackingJson | undefined> => {
    const [status, customerId, restaurantId, riderId, head, route, coCustomerId] = await fetchViews(orderId);
    if (!status || !customerId || !restaurantId) return undefined;
    if (!head) {
      // Written before views were kept serialized (or mid-upgrade): build it once, then read again.
      await write(redis)(key(orderId), TTL_SECONDS, '', '', ROUTE_MAX);
      return readJson(orderId);
    }
    return { customerId, coCustomerId: coCustomerId || null, restaurantId, riderId: riderId || null, json: `${head}${route ?? ''}]}` };
  };
  return {
    channel,
    async applyStatus(change) {
      // The kitchen's ready time goes in with the status it belongs to.
      const cookReadyAt = change.to === 'COOKING' && change.cookMinutes ? ['cookReadyAt', (change.at ? Date.parse(change.at) : Date.now()) + change.cookMinutes * 60_000] : [];
      // Versions only move forward: a late relay of an old change must not undo a newer one.
      const applied = await write(redis)(key(change.orderId), TTL_SECONDS, change.version, '', ROUTE_MAX,
        'orderId', change.orderId,
        'status', change.to,
        'version', change.version,
        'customerId', change.customerId,
        'coCustomerId', change.coCustomerId ?? '',
        'restaurantId', change.restaurantId,
        // A change made before the rider took the order says nothing about the rider: relayed after
        // the accept (the relay gathers commits for tens of milliseconds), it must not clear them.
        ...(change.riderId ? ['riderId', change.riderId] : []),
        'restaurant', JSON.stringify(change.restaurant),
        'dropoff', JSON.stringify(change.dropoff),
        'etaAt', change.etaAt ?? '',
        'updatedAt', new Date().toISOString(),
        ...cookReadyAt,
      );
      if (applied === 0) return;
      // The rest depends only on the write above, not on one another: sent together (one round
      // trip with auto-pipelining, not three; the relay applies five of these per delivered order).
      // Apart from the order's script: the index lives in another slot. A new order is due at once (score 0).
      const ended = TERMINAL.has(change.to);
      await Promise.all([
        change.riderId && ended && redis.del(riderOrder(change.riderId)),
        ended ? redis.zrem(active, change.orderId) : redis.zadd(active, 'NX', 0, change.orderId),
        publish(change.orderId, { type: 'status', status: change.to, version: change.version, etaAt: change.etaAt }),
      ]);
    },
    async attachRider(orderId, riderId) {
      // Two independent writes together, then the news (watchers read what it announces).
      await Promise.all([
        redis.set(riderOrder(riderId), orderId, 'EX', TTL_SECONDS),
        write(redis)(key(orderId), TTL_SECONDS, '', '', ROUTE_MAX, 'riderId', riderId, 'updatedAt', new Date().toISOString()),
      ]);
      await publish(orderId, { type: 'rider', riderId });
    },
    async applyPositions(moved) {
      if (moved.length === 0) return [];
      // Each rider's key is in its rider's slot: one MGET on one Redis, pipelined GETs on a cluster.
      const orders = await getEach(redis, moved.map((p) => riderOrder(p.riderId)));
      const active = moved.map((point, i) => ({ point, orderId: orders[i] })).filter((x): x is { point: LocationPoint; orderId: string } => Boolean(x.orderId));
      if (active.length === 0) return [];
      const reads = redis.pipeline();
      for (const { orderId } of active) reads.hmget(key(orderId), 'status', 'restaurant', 'dropoff', 'customerId', 'restaurantId', 'coCustomerId');
      const states = (await reads.exec()) ?? [];
      const writes = redis.pipeline();
      const out: OrderPosition[] = [];
      active.forEach(({ point, orderId }, i) => {
        const [status, restaurant, dropoff, customerId, restaurantId, coCustomerId] = (states[i]?.[1] as Array<string | null>) ?? [];
        if (!status || !restaurant || !dropoff || !customerId || !restaurantId) return;
        const rider = { lat: point.lat, lng: point.lng, heading: point.heading, speed: point.speed, recordedAt: new Date(point.recordedAt).toISOString() };
        write(writes)(key(orderId), TTL_SECONDS, '', `[${point.lat},${point.lng}]`, ROUTE_MAX, 'rider', JSON.stringify(rider), 'updatedAt', new Date().toISOString());
        writes.publish(channel(orderId), JSON.stringify({ orderId, type: 'position', rider }));
        out.push({ orderId, riderId: point.riderId, customerId, coCustomerId: coCustomerId || null, restaurantId, status, point, restaurant: JSON.parse(restaurant), dropoff: JSON.parse(dropoff) });
      });
      await writes.exec();
      return out;
    },
    async updateEta(orderId, etaAt) {
      await write(redis)(key(orderId), TTL_SECONDS, '', '', ROUTE_MAX, 'etaAt', etaAt, 'updatedAt', new Date().toISOString());
      await publish(orderId, { type: 'eta', etaAt });
    },
    async dueForEta(before, limit) {
      const ids = await redis.zrangebyscore(active, '-inf', `(${before}`, 'LIMIT', 0, limit);
      if (ids.length === 0) return { scanned: 0, orders: [] };
      const reads = redis.pipeline();
      for (const id of ids) reads.hmget(key(id), 'status', 'riderId', 'restaurant', 'dropoff', 'etaAt', 'cookReadyAt');
      const results = (await reads.exec()) ?? [];
      const orders: EtaSubject[] = [];
      const gone: string[] = [];
      ids.forEach((orderId, i) => {
        const [status, riderId, restaurant, dropoff, etaAt, cookReadyAt] = (results[i]?.[1] as Array<string | null>) ?? [];
        // Expired tracking state (a day without a change) or an end the index missed: forget it.
        if (!status || !restaurant || !dropoff || TERMINAL.has(status as never)) return void gone.push(orderId);
        orders.push({
          orderId,
          status,
          riderId: riderId || null,
          restaurant: JSON.parse(restaurant),
          dropoff: JSON.parse(dropoff),
          etaAt: etaAt ? Date.parse(etaAt) : null,
          cookReadyAt: cookReadyAt ? Number(cookReadyAt) : null,
        });
      });
      if (gone.length > 0) await redis.zrem(active, ...gone);
      return { scanned: ids.length, orders };
    },
    async markRefreshed(orderIds, at) {
      if (orderIds.length === 0) return;
      // XX: an order that ended meanwhile has left the index and must not come back.
      await redis.zadd(active, 'XX', ...orderIds.flatMap((id) => [at, id]));
    },
    async restore(orders) {
      if (orders.length === 0) return 0;
      const checks = redis.pipeline();
      for (const o of orders) {
        checks.exists(key(o.orderId));
        checks.zscore(active, o.orderId);
      }
      const replies = (await checks.exec()) ?? [];
      const writes = redis.pipeline();
      let restored = 0;
      orders.forEach((o, i) => {
        const hasView = replies[2 * i]?.[1] === 1;
        const indexed = replies[2 * i + 1]?.[1] !== null;
        if (hasView && indexed) return;
        restored++;
        if (!hasView) {
          // The version check keeps a view the relay wrote meanwhile (it is newer or the same).
          write(writes)(key(o.orderId), TTL_SECONDS, o.version, '', ROUTE_MAX,
            'orderId', o.orderId, 'status', o.to, 'version', o.version, 'customerId', o.customerId, 'restaurantId', o.restaurantId,
            'riderId', o.riderId ?? '', 'restaurant', JSON.stringify(o.restaurant), 'dropoff', JSON.stringify(o.dropoff),
            'etaAt', o.etaAt ?? '', 'updatedAt', new Date().toISOString());
          if (o.riderId) writes.set(riderOrder(o.riderId), o.orderId, 'EX', TTL_SECONDS, 'NX');
        }
        // Due for an ETA refresh at once (score 0), as a new order is.
        if (!indexed) writes.zadd(active, 'NX', 0, o.orderId);
      });
      if (restored > 0) await writes.exec();
      return restored;
    },
    readJson,
    async read(orderId) {
      const found = await readJson(orderId);
      if (!found) return undefined;
      const { route, ...view } = JSON.parse(found.json) as Omit<TrackingView, 'customerId' | 'restaurantId'>;
      return { ...view, route, customerId: found.customerId, restaurantId: found.restaurantId };
    },
  };
}
