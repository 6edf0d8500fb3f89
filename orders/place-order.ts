import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { findByIdempotencyKey, insertOrders, type NewOrderRecords, type OrderRow } from '../db/orders-repository.ts';
import type { Restaurant } from '../db/restaurants-repository.ts';
import { haversineMeters } from '../domain/location/geo.ts';
import { priceOrder, quoteEtaMinutes, type PricedLine } from '../domain/orders/quote.ts';
import { catalogueFromDb, type CatalogueReads } from './catalogue-cache.ts';
import { createGroupCommit, type GroupCommitOptions } from '../runtime/group-commit.ts';
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
 * and writes it PLACED with its first event and outbox message, in one statement. With a cached
 * `catalogue` (orders/catalogue-cache.ts) that statement is the only round trip of a new order:
 * an Idempotency-Key is looked up only when the insert finds it taken (a retry), or when the
 * request fails its checks (a retry of an order placed before the menu changed still replays).
 *
 * Orders placed at the same moment share that statement (group commit, runtime/group-commit.ts):
 * at hundreds of orders a second Postgres then parses, plans and commits (an fsync) once per batch
 * rather than once per order. Each order is answered only after the batch has committed.
 */
export function createOrderPlacer(db: Knex, catalogue: CatalogueReads = catalogueFromDb(db), groupCommit: GroupCommitOptions = {}): OrderPlacer {
  const write = createGroupCommit(writeBatch(db), { maxInFlight: 2, maxSize: 100, ...groupCommit });
  return async (input) => {
    const requestHash = hash(input);
    const earlier = async (): Promise<PlaceOrderResult | undefined> => {
      if (!input.idempotencyKey) return undefined;
      const found = await findByIdempotencyKey(db, input.customerId, input.idempotencyKey);
      if (!found) return undefined;
      return found.request_hash === requestHash ? { kind: 'replayed', order: found } : { kind: 'key-reused', orderId: found.id };
    };
    const checked = await checkItems(db, input.restaurantId, input.items, 'items', catalogue);
    if (checked.kind === 'invalid') return (await earlier()) ?? checked;
    const { restaurant, lines } = checked;
    const price = priceOrder(lines, restaurant.deliveryTip);
    if (price.subtotal < restaurant.minOrder) return (await earlier()) ?? belowMinimum(restaurant, price.subtotal);
    if (haversineMeters(restaurant, input.dropoff) > MAX_DELIVERY_METERS) return (await earlier()) ?? tooFar();
    const { row, items, event, outbox } = newOrderRecords({ customerId: input.customerId, restaurant, lines, dropoff: input.dropoff, idempotencyKey: input.idempotencyKey ?? null, requestHash });
    const written = await write({ row, items, event, outbox });
    if (written.error) throw written.error;
    if (written.order) return { kind: 'created', order: written.order };
    // The key was used before (a retry), or two retries with one key raced: the first order answers.
    const found = await earlier();
    if (found) return found;
    throw new Error(`the order for Idempotency-Key ${input.idempotencyKey} was not found after its key was taken`);
  };
}

/**
 * One statement for the batch. Should it fail, each order is written alone, so one order's
 * failure is its own (and a dependency that is down fails each with its own error).
 */
function writeBatch(db: Knex) {
  return async (batch: NewOrderRecords[]): Promise<Array<{ order?: OrderRow; error?: unknown }>> => {
    try {
      return (await insertOrders(db, batch)).map((order) => ({ order }));
    } catch (err) {
      if (batch.length === 1) return [{ error: err }];
      return Promise.all(batch.map((one) => insertOrders(db, [one]).then(([order]) => ({ order }), (error: unknown) => ({ error }))));
    }
  };
}

export type Invalid = { kind: 'invalid'; path: string; message: string };

/**
 * The restaurant is known and open, every item is listed once, on its menu and available; the
 * lines come back priced. Group orders reuse this for each party's items.
 */
export async function checkItems(
  db: Knex,
  restaurantId: string,
  input: ReadonlyArray<{ menuItemId: string; quantity: number }>,
  path = 'items',
  catalogue: CatalogueReads = catalogueFromDb(db),
): Promise<{ kind: 'ok'; restaurant: Restaurant; lines: PricedLine[] } | Invalid> {
  const ids = input.map((i) => i.menuItemId);
  // Both reads side by side; the menu read is scoped to the restaurant id asked for.
  const [restaurant, listed] = await Promise.all([catalogue.restaurant(restaurantId), catalogue.menuItems(restaurantId, ids)]);
  if (!restaurant) return { kind: 'invalid', path: 'restaurantId', message: `no restaurant ${restaurantId}` };
  if (!restaurant.open) return { kind: 'invalid', path: 'restaurantId', message: `${restaurant.name} is closed` };
  const duplicate = ids.findIndex((id, i) => ids.indexOf(id) !== i);
  if (duplicate >= 0) return { kind: 'invalid', path: `${path}.${duplicate}.menuItemId`, message: 'listed twice; raise its quantity instead' };
  const menu = new Map(listed.map((m) => [m.id, m]));
  const lines: PricedLine[] = [];
  for (const [i, item] of input.entries()) {
    const found = menu.get(item.menuItemId);
    if (!found) return { kind: 'invalid', path: `${path}.${i}.menuItemId`, message: `not on ${restaurant.name}'s menu` };
    if (!found.available) return { kind: 'invalid', path: `${path}.${i}.menuItemId`, message: `${found.name} is sold out` };
    lines.push({ menuItemId: found.id, name: found.name, unitPrice: found.price, quantity: item.quantity });
  }
  return { kind: 'ok', restaurant, lines };
}

export function belowMinimum(restaurant: Restaurant, subtotal: number, path = 'items'): Invalid {
  return { kind: 'invalid', path, message: `the minimum order is ${restaurant.minOrder.toLocaleString('ko-KR')}원; this is ${subtotal.toLocaleString('ko-KR')}원` };
}

export function isTooFar(restaurant: Restaurant, dropoff: { lat: number; lng: number }): boolean {
  return haversineMeters(restaurant, dropoff) > MAX_DELIVERY_METERS;
}

function tooFar(): Invalid {
  return { kind: 'invalid', path: 'dropoff', message: `more than ${MAX_DELIVERY_METERS / 1_000} km from the restaurant` };
}

/** The rows of a new PLACED order: the order, its items, its first event and its outbox message. */
export function newOrderRecords(input: {
  customerId: string;
  /** A matched group's joiner, who shares the order with its creator. */
  coCustomerId?: string;
  restaurant: Restaurant;
  lines: readonly PricedLine[];
  dropoff: { lat: number; lng: number; address: string };
  idempotencyKey: string | null;
  requestHash: string | null;
  /** The tip agreed earlier (a group order fixes it when it opens). Default: the restaurant's tip now. */
  deliveryTip?: number;
}) {
  const { restaurant } = input;
  const price = priceOrder(input.lines, input.deliveryTip ?? restaurant.deliveryTip);
  const etaMinutes = quoteEtaMinutes({ prepMinutes: restaurant.prepMinutes, restaurant, dropoff: input.dropoff });
  const row = {
    id: `ord_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
    customer_id: input.customerId,
    co_customer_id: input.coCustomerId ?? null,
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
    idempotency_key: input.idempotencyKey,
    request_hash: input.requestHash,
  };
  const items = input.lines.map((l) => ({ menu_item_id: l.menuItemId, name: l.name, unit_price: l.unitPrice, quantity: l.quantity }));
  const event = { order_id: row.id, version: 1, from_status: null, to_status: 'PLACED' as const, actor_role: 'customer', actor_id: input.customerId, reason: null, cook_minutes: null };
  const outbox = [statusChangeMessage({ ...row, created_at: new Date(), updated_at: new Date() }, restaurant, null, items, null)];
  return { row, items, event, outbox };
}

function hash(input: PlaceOrderInput): string {
  const { restaurantId, items, dropoff } = input;
  return createHash('sha256').update(JSON.stringify({ restaurantId, items, dropoff })).digest('hex').slice(0, 32);
}
