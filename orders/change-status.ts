import type { Knex } from 'knex';
import { applyTransitions, getOrdersForChange, type ChangedOrder, type TransitionInput } from '../db/order-transitions-repository.ts';
import { applyTransition, getOrder, getOrderForChange, type OrderRow, type OrderWithRestaurant } from '../db/orders-repository.ts';
import type { Role } from '../domain/roles.ts';
import { decide, type OrderStatus, type TransitionRequest } from '../domain/orders/state-machine.ts';
import { API_WRITE_LINGER_MS, createGroupCommit } from '../runtime/group-commit.ts';
import { statusChangeMessage } from './outbox-messages.ts';

export type ChangeResult =
  /** `restaurant`: where the order is picked up (dispatch searches around it). */
  | { kind: 'changed'; order: ChangedOrder; restaurant: { lat: number; lng: number } }
  | { kind: 'not-found' }
  | { kind: 'forbidden'; message: string }
  | { kind: 'invalid'; field: string; message: string }
  /** Illegal from the current status, or someone moved the order first: nothing was written. */
  | { kind: 'conflict'; message: string; status: OrderStatus; version: number };

type Actor = { role: Role; sub: string };
type Request = TransitionRequest & { expectedVersion?: number };
export type StatusChanger = (orderId: string, actor: Actor, request: Request) => Promise<ChangeResult>;

/** How a change reads its order and writes its transition: one at a time, or grouped. */
interface TransitionStore {
  read(orderId: string): Promise<(OrderWithRestaurant & { item_count: number }) | undefined>;
  apply(change: TransitionInput): Promise<ChangedOrder | undefined>;
}

/** One status change, alone: its read and its write are statements of their own. */
export async function changeStatus(db: Knex, orderId: string, actor: Actor, request: Request): Promise<ChangeResult> {
  return decideAndApply(db, oneByOne(db), orderId, actor, request);
}

/**
 * Status changes for a busy process (the API): changes arriving in the same event-loop turn read
 * their orders in one query and write their transitions in one statement, one commit (at a hot
 * spot, restaurants accept 167 orders a second, and Postgres's cost was per statement and per
 * commit, not per row); while a batch is being written, the next waits up to
 * {@link API_WRITE_LINGER_MS} for company. Each change is still decided on its own order as read
 * and written only if the order is still at that version; each caller gets its own result,
 * exactly as alone.
 */
export function createStatusChanger(db: Knex): StatusChanger {
  const read = createGroupCommit((ids: string[]) => getOrdersForChange(db, ids), { maxInFlight: 4, lingerMs: API_WRITE_LINGER_MS });
  const write = createGroupCommit((changes: TransitionInput[]) => applyDistinct(db, changes), { maxInFlight: 4, lingerMs: API_WRITE_LINGER_MS });
  const store: TransitionStore = { read, apply: write };
  return (orderId, actor, request) => decideAndApply(db, store, orderId, actor, request);
}

/**
 * One statement moves a row once, so two changes of one order in a batch go in successive
 * statements: the second is then decided against the version the first left (and loses, as it
 * would have one after the other).
 */
async function applyDistinct(db: Knex, changes: TransitionInput[]): Promise<Array<ChangedOrder | undefined>> {
  const seen = new Set<string>();
  const first: number[] = [];
  const rest: number[] = [];
  changes.forEach((c, i) => (seen.has(c.id) ? rest : (seen.add(c.id), first)).push(i));
  const out: Array<ChangedOrder | undefined> = new Array(changes.length);
  const applied = await applyTransitions(db, first.map((i) => changes[i]!));
  first.forEach((i, k) => (out[i] = applied[k]));
  if (rest.length > 0) {
    const later = await applyDistinct(db, rest.map((i) => changes[i]!));
    rest.forEach((i, k) => (out[i] = later[k]));
  }
  return out;
}

function oneByOne(db: Knex): TransitionStore {
  return {
    read: (orderId) => getOrderForChange(db, orderId),
    apply: (c) =>
      applyTransition(db, { id: c.id, expectedVersion: c.expectedVersion, to: c.to, patch: c.cookMinutes === undefined ? {} : { cook_minutes: c.cookMinutes } }, c.event, c.outbox),
  };
}

/**
 * One status change: decide with the pure state machine on the order as read, then write only if
 * the order is still at that version. Customer, rider, restaurant and admin can race; exactly one
 * of them wins each version, and the others get the current status and version back.
 */
async function decideAndApply(db: Knex, store: TransitionStore, orderId: string, actor: Actor, request: Request): Promise<ChangeResult> {
  const order = await store.read(orderId);
  if (!order) return { kind: 'not-found' };
  const conflict = (message: string, current: OrderRow): ChangeResult => ({ kind: 'conflict', message, status: current.status, version: current.version });
  if (request.expectedVersion !== undefined && request.expectedVersion !== order.version) {
    return conflict(`the order is at version ${order.version}, not ${request.expectedVersion}`, order);
  }
  const decision = decide({ status: order.status, customerId: order.customer_id, restaurantId: order.restaurant_id, riderId: order.rider_id }, actor, request);
  if (!decision.ok) {
    if (decision.kind === 'forbidden') return { kind: 'forbidden', message: decision.message };
    if (decision.kind === 'invalid') return { kind: 'invalid', field: decision.field, message: decision.message };
    return conflict(decision.message, order);
  }
  const cookMinutes = request.to === 'COOKING' ? request.cookMinutes! : undefined;
  // The row as the update will leave it: its status message goes into the same statement.
  const next: OrderRow = { ...order, ...(cookMinutes !== undefined && { cook_minutes: cookMinutes }), status: request.to, version: order.version + 1, updated_at: new Date() };
  const updated = await store.apply({
    id: orderId,
    expectedVersion: order.version,
    to: request.to,
    ...(cookMinutes !== undefined && { cookMinutes }),
    event: { from_status: order.status, actor_role: actor.role, actor_id: actor.sub, reason: request.reason ?? null, cook_minutes: request.cookMinutes ?? null },
    outbox: [statusChangeMessage(next, { name: order.restaurant_name, lat: order.restaurant_lat, lng: order.restaurant_lng }, order.status, [{ quantity: order.item_count }], request.reason ?? null)],
  });
  if (updated) return { kind: 'changed', order: updated, restaurant: { lat: order.restaurant_lat, lng: order.restaurant_lng } };
  const current = (await getOrder(db, orderId))!;
  return conflict(`the order changed to ${current.status} (version ${current.version}) while this request was decided`, current);
}
