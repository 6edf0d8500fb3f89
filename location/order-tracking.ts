import type { Redis } from 'ioredis';
import type { LocationPoint } from '../domain/location/point.ts';
import type { StatusChange } from '../domain/orders/status-notifications.ts';
import { TERMINAL } from '../domain/orders/state-machine.ts';

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
  restaurantId: string;
  status: string;
  point: LocationPoint;
  restaurant: { lat: number; lng: number };
  dropoff: { lat: number; lng: number };
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
}

export function createOrderTracking(redis: Redis, prefix: string): OrderTracking {
  // An order's keys share one hash tag, so MULTI over them also works on Redis Cluster.
  const key = (orderId: string) => `${prefix}:order-track:{order-${orderId}}`;
  const routeKey = (orderId: string) => `${prefix}:order-route:{order-${orderId}}`;
  const riderOrder = (riderId: string) => `${prefix}:rider-order:{${riderId}}`;
  const channel = (orderId: string) => `${prefix}:order-updates:{${orderId}}`;
  // Every active order, scored by when its ETA was last refreshed (0: never). Its own hash tag: on
  // Redis Cluster it is one slot, written once per status change and read in pages.
  const active = `${prefix}:orders-active:{eta}`;
  const publish = (orderId: string, event: Record<string, unknown>) => redis.publish(channel(orderId), JSON.stringify({ orderId, ...event }));
  return {
    channel,
    async applyStatus(change) {
      const k = key(change.orderId);
      // Versions only move forward: a late relay of an old change must not undo a newer one.
      const current = Number((await redis.hget(k, 'version')) ?? 0);
      if (change.version <= current) return;
      await redis
        .multi()
        .hset(k, {
          orderId: change.orderId,
          status: change.to,
          version: change.version,
          customerId: change.customerId,
          restaurantId: change.restaurantId,
          riderId: change.riderId ?? '',
          restaurant: JSON.stringify(change.restaurant),
          dropoff: JSON.stringify(change.dropoff),
          etaAt: change.etaAt ?? '',
          updatedAt: new Date().toISOString(),
        })
        .expire(k, TTL_SECONDS)
        .exec();
      if (change.riderId && TERMINAL.has(change.to)) await redis.del(riderOrder(change.riderId));
      if (change.to === 'COOKING' && change.cookMinutes) {
        const acceptedAt = change.at ? Date.parse(change.at) : Date.now();
        await redis.hset(k, 'cookReadyAt', acceptedAt + change.cookMinutes * 60_000);
      }
      // Outside the MULTI: the index lives in another slot. A new order is due at once (score 0).
      if (TERMINAL.has(change.to)) await redis.zrem(active, change.orderId);
      else await redis.zadd(active, 'NX', 0, change.orderId);
      await publish(change.orderId, { type: 'status', status: change.to, version: change.version, etaAt: change.etaAt });
    },
    async attachRider(orderId, riderId) {
      await redis.set(riderOrder(riderId), orderId, 'EX', TTL_SECONDS);
      await redis.hset(key(orderId), 'riderId', riderId, 'updatedAt', new Date().toISOString());
      await publish(orderId, { type: 'rider', riderId });
    },
    async applyPositions(moved) {
      if (moved.length === 0) return [];
      const orders = await redis.mget(...moved.map((p) => riderOrder(p.riderId)));
      const active = moved.map((point, i) => ({ point, orderId: orders[i] })).filter((x): x is { point: LocationPoint; orderId: string } => Boolean(x.orderId));
      if (active.length === 0) return [];
      const reads = redis.pipeline();
      for (const { orderId } of active) reads.hmget(key(orderId), 'status', 'restaurant', 'dropoff', 'customerId', 'restaurantId');
      const states = (await reads.exec()) ?? [];
      const writes = redis.pipeline();
      const out: OrderPosition[] = [];
      active.forEach(({ point, orderId }, i) => {
        const [status, restaurant, dropoff, customerId, restaurantId] = (states[i]?.[1] as Array<string | null>) ?? [];
        if (!status || !restaurant || !dropoff || !customerId || !restaurantId) return;
        const rider = { lat: point.lat, lng: point.lng, heading: point.heading, speed: point.speed, recordedAt: new Date(point.recordedAt).toISOString() };
        writes.hset(key(orderId), 'rider', JSON.stringify(rider), 'updatedAt', new Date().toISOString());
        writes.rpush(routeKey(orderId), `${point.lat},${point.lng}`);
        writes.ltrim(routeKey(orderId), -ROUTE_MAX, -1);
        writes.expire(routeKey(orderId), TTL_SECONDS);
        writes.publish(channel(orderId), JSON.stringify({ orderId, type: 'position', rider }));
        out.push({ orderId, riderId: point.riderId, customerId, restaurantId, status, point, restaurant: JSON.parse(restaurant), dropoff: JSON.parse(dropoff) });
      });
      await writes.exec();
      return out;
    },
    async updateEta(orderId, etaAt) {
      await redis.hset(key(orderId), 'etaAt', etaAt, 'updatedAt', new Date().toISOString());
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
    async read(orderId) {
      const [[, hash], [, route]] = (await redis.multi().hgetall(key(orderId)).lrange(routeKey(orderId), 0, -1).exec()) as [[null, Record<string, string>], [null, string[]]];
      if (!hash || !hash.status) return undefined;
      return {
        orderId,
        status: hash.status,
        version: Number(hash.version),
        customerId: hash.customerId!,
        restaurantId: hash.restaurantId!,
        riderId: hash.riderId || null,
        restaurant: JSON.parse(hash.restaurant!),
        dropoff: JSON.parse(hash.dropoff!),
        etaAt: hash.etaAt || null,
        rider: hash.rider ? JSON.parse(hash.rider) : null,
        route: route.map((p) => p.split(',').map(Number) as [number, number]),
        updatedAt: hash.updatedAt!,
      };
    },
  };
}
