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
}

export function createOrderTracking(redis: Redis, prefix: string): OrderTracking {
  // An order's keys share one hash tag, so MULTI over them also works on Redis Cluster.
  const key = (orderId: string) => `${prefix}:order-track:{order-${orderId}}`;
  const routeKey = (orderId: string) => `${prefix}:order-route:{order-${orderId}}`;
  const riderOrder = (riderId: string) => `${prefix}:rider-order:{${riderId}}`;
  const channel = (orderId: string) => `${prefix}:order-updates:{${orderId}}`;
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
