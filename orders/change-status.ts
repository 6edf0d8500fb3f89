import type { Knex } from 'knex';
import { applyTransition, getOrder, getOrderForChange, type OrderRow } from '../db/orders-repository.ts';
import type { Role } from '../domain/roles.ts';
import { decide, type OrderStatus, type TransitionRequest } from '../domain/orders/state-machine.ts';
import { statusChangeMessage } from './outbox-messages.ts';

export type ChangeResult =
  /** `restaurant`: where the order is picked up (dispatch searches around it). */
  | { kind: 'changed'; order: OrderRow; restaurant: { lat: number; lng: number } }
  | { kind: 'not-found' }
  | { kind: 'forbidden'; message: string }
  | { kind: 'invalid'; field: string; message: string }
  /** Illegal from the current status, or someone moved the order first: nothing was written. */
  | { kind: 'conflict'; message: string; status: OrderStatus; version: number };

/**
 * One status change: decide with the pure state machine on the order as read, then write only if
 * the order is still at that version. Customer, rider, restaurant and admin can race; exactly one
 * of them wins each version, and the others get the current status and version back.
 */
export async function changeStatus(
  db: Knex,
  orderId: string,
  actor: { role: Role; sub: string },
  request: TransitionRequest & { expectedVersion?: number },
): Promise<ChangeResult> {
  const order = await getOrderForChange(db, orderId);
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
  const patch = request.to === 'COOKING' ? { cook_minutes: request.cookMinutes! } : {};
  // The row as the update will leave it: its status message goes into the same statement.
  const next: OrderRow = { ...order, ...patch, status: request.to, version: order.version + 1, updated_at: new Date() };
  const updated = await applyTransition(
    db,
    { id: orderId, expectedVersion: order.version, to: request.to, patch },
    { from_status: order.status, actor_role: actor.role, actor_id: actor.sub, reason: request.reason ?? null, cook_minutes: request.cookMinutes ?? null },
    [statusChangeMessage(next, { name: order.restaurant_name, lat: order.restaurant_lat, lng: order.restaurant_lng }, order.status, [{ quantity: order.item_count }], request.reason ?? null)],
  );
  if (updated) return { kind: 'changed', order: updated, restaurant: { lat: order.restaurant_lat, lng: order.restaurant_lng } };
  const current = (await getOrder(db, orderId))!;
  return conflict(`the order changed to ${current.status} (version ${current.version}) while this request was decided`, current);
}
