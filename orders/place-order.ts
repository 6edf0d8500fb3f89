import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { findByIdempotencyKey, insertOrder, type OrderRow } from '../db/orders-repository.ts';
import { getRestaurant, menuItemsByIds } from '../db/restaurants-repository.ts';
import { haversineMeters } from '../domain/location/geo.ts';
import { priceOrder, quoteEtaMinutes, type PricedLine } from '../domain/orders/quote.ts';
import { statusChangeMessage } from './outbox-messages.ts';

/** Farther than this from the restaurant, no rider takes the trip. */
const MAX_DELIVERY_METERS = 10_000;

export interface PlaceOrderInput {
  customerId: string;
  restaurantId: string;
  items: Array<{ menuItemId: string; quantity: number }>;
  dropoff: { lat: number; lng: number; address: string };
  idempotencyKey?: string;
}

export type PlaceOrderResult =
  | { kind: 'created'; order: OrderRow }
  /** The same Idempotency-Key and the same request: the order made the first time. */
  | { kind: 'replayed'; order: OrderRow }
  | { kind: 'key-reused'; orderId: string }
  | { kind: 'invalid'; path: string; message: string };

export type OrderPlacer = (input: PlaceOrderInput) => Promise<PlaceOrderResult>;

/**
 * A customer's order: checks the restaurant is open, every item is its own and available, the
 * minimum order is met and the drop-off is within reach; prices it in integer won, quotes an ETA
 * and writes it PLACED with its first event and outbox message, in one transaction.
 */
export function createOrderPlacer(db: Knex): OrderPlacer {
  return async (input) => {
    const requestHash = hash(input);
    const ids = input.items.map((i) => i.menuItemId);
    // Three independent reads side by side: one round trip of latency, not three.
    const [earlier, restaurant, listed] = await Promise.all([
      input.idempotencyKey ? findByIdempotencyKey(db, input.customerId, input.idempotencyKey) : undefined,
      getRestaurant(db, input.restaurantId),
      menuItemsByIds(db, input.restaurantId, ids),
    ]);
    if (earlier) return earlier.request_hash === requestHash ? { kind: 'replayed', order: earlier } : { kind: 'key-reused', orderId: earlier.id };
    if (!restaurant) return { kind: 'invalid', path: 'restaurantId', message: `no restaurant ${input.restaurantId}` };
    if (!restaurant.open) return { kind: 'invalid', path: 'restaurantId', message: `${restaurant.name} is closed` };
    const duplicate = ids.findIndex((id, i) => ids.indexOf(id) !== i);
    if (duplicate >= 0) return { kind: 'invalid', path: `items.${duplicate}.menuItemId`, message: 'listed twice; raise its quantity instead' };
    const menu = new Map(listed.map((m) => [m.id, m]));
    const lines: PricedLine[] = [];
    for (const [i, item] of input.items.entries()) {
      const found = menu.get(item.menuItemId);
      if (!found) return { kind: 'invalid', path: `items.${i}.menuItemId`, message: `not on ${restaurant.name}'s menu` };
      if (!found.available) return { kind: 'invalid', path: `items.${i}.menuItemId`, message: `${found.name} is sold out` };
      lines.push({ menuItemId: found.id, name: found.name, unitPrice: found.price, quantity: item.quantity });
    }
    const price = priceOrder(lines, restaurant.deliveryTip);
    if (price.subtotal < restaurant.minOrder) {
      return { kind: 'invalid', path: 'items', message: `the minimum order is ${restaurant.minOrder.toLocaleString('ko-KR')}원; this is ${price.subtotal.toLocaleString('ko-KR')}원` };
    }
    if (haversineMeters(restaurant, input.dropoff) > MAX_DELIVERY_METERS) {
      return { kind: 'invalid', path: 'dropoff', message: `more than ${MAX_DELIVERY_METERS / 1_000} km from the restaurant` };
    }
    const etaMinutes = quoteEtaMinutes({ prepMinutes: restaurant.prepMinutes, restaurant, dropoff: input.dropoff });
    const row = {
      id: `ord_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
      customer_id: input.customerId,
      restaurant_id: restaurant.id,
      rider_id: null,
      status: 'PLACED' as const,
      version: 1,
      subtotal: price.subtotal,
      delivery_tip: price.deliveryTip,
      total: price.total,
      dropoff_lat: input.dropoff.lat,
      dropoff_lng: input.dropoff.lng,
      dropoff_address: input.dropoff.address,
      cook_minutes: null,
      eta_at: new Date(Date.now() + etaMinutes * 60_000),
      idempotency_key: input.idempotencyKey ?? null,
      request_hash: requestHash,
    };
    const items = lines.map((l) => ({ menu_item_id: l.menuItemId, name: l.name, unit_price: l.unitPrice, quantity: l.quantity }));
    const event = { order_id: row.id, version: 1, from_status: null, to_status: 'PLACED' as const, actor_role: 'customer', actor_id: input.customerId, reason: null, cook_minutes: null };
    try {
      const order = await insertOrder(db, row, items, event, [statusChangeMessage({ ...row, created_at: new Date(), updated_at: new Date() }, restaurant, null, items, null)]);
      return { kind: 'created', order };
    } catch (err) {
      // Two retries with one key raced: the loser answers with the winner's order.
      if ((err as { code?: string }).code === '23505' && input.idempotencyKey) {
        const winner = await findByIdempotencyKey(db, input.customerId, input.idempotencyKey);
        if (winner) return winner.request_hash === requestHash ? { kind: 'replayed', order: winner } : { kind: 'key-reused', orderId: winner.id };
      }
      throw err;
    }
  };
}

function hash(input: PlaceOrderInput): string {
  const { restaurantId, items, dropoff } = input;
  return createHash('sha256').update(JSON.stringify({ restaurantId, items, dropoff })).digest('hex').slice(0, 32);
}
