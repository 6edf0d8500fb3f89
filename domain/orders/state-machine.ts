import type { Role } from '../roles.ts';
import { isOrderParty } from './parties.ts';

/** An order's life (seed 000): 주문접수 → 조리중 → 픽업대기 → 픽업완료 → 배달중 → 배달완료, or 거절/취소. */
export const ORDER_STATUSES = ['PLACED', 'COOKING', 'READY_FOR_PICKUP', 'PICKED_UP', 'DELIVERING', 'DELIVERED', 'REJECTED', 'CANCELLED'] as const;

export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const TERMINAL: ReadonlySet<OrderStatus> = new Set(['DELIVERED', 'REJECTED', 'CANCELLED']);

/** Who normally makes each move. Admins may make any of them, and cancel any open order. */
const EDGES: ReadonlyArray<{ from: OrderStatus; to: OrderStatus; by: Exclude<Role, 'admin'> }> = [
  { from: 'PLACED', to: 'COOKING', by: 'restaurant' },
  { from: 'PLACED', to: 'REJECTED', by: 'restaurant' },
  { from: 'PLACED', to: 'CANCELLED', by: 'customer' },
  { from: 'COOKING', to: 'READY_FOR_PICKUP', by: 'restaurant' },
  { from: 'READY_FOR_PICKUP', to: 'PICKED_UP', by: 'rider' },
  { from: 'PICKED_UP', to: 'DELIVERING', by: 'rider' },
  { from: 'DELIVERING', to: 'DELIVERED', by: 'rider' },
];

export interface OrderParties {
  status: OrderStatus;
  customerId: string;
  restaurantId: string;
  /** The assigned rider, once dispatch has one. */
  riderId: string | null;
}

export interface TransitionRequest {
  to: OrderStatus;
  /** Required when a restaurant accepts (PLACED → COOKING). */
  cookMinutes?: number;
  /** Required from admins; kept with rejections and cancellations. */
  reason?: string;
}

export type Decision =
  | { ok: true }
  /** The caller may not touch this order, or may not make this move: 403. */
  | { ok: false; kind: 'forbidden'; message: string }
  /** The move does not exist from the current status: 409. */
  | { ok: false; kind: 'illegal'; message: string }
  /** The move exists but the request lacks what it needs: 400. */
  | { ok: false; kind: 'invalid'; field: 'cookMinutes' | 'reason'; message: string };

/** Pure: may this actor move this order to `request.to`? No I/O; the caller applies the answer. */
export function decide(order: OrderParties, actor: { role: Role; sub: string }, request: TransitionRequest): Decision {
  if (!isOrderParty(order, actor)) return { ok: false, kind: 'forbidden', message: `this order is not yours to change` };
  if (TERMINAL.has(order.status)) return { ok: false, kind: 'illegal', message: `the order is already ${order.status}` };
  const edge = EDGES.find((e) => e.from === order.status && e.to === request.to);
  const adminCancel = actor.role === 'admin' && request.to === 'CANCELLED';
  if (!edge && !adminCancel) return { ok: false, kind: 'illegal', message: `an order cannot go from ${order.status} to ${request.to}` };
  if (actor.role === 'admin') {
    if (!request.reason?.trim()) return { ok: false, kind: 'invalid', field: 'reason', message: 'admins give a reason for every transition' };
  } else if (edge!.by !== actor.role) {
    return { ok: false, kind: 'forbidden', message: `${order.status} → ${request.to} is for the ${edge!.by}, not the ${actor.role}` };
  }
  if (request.to === 'COOKING' && !(Number.isInteger(request.cookMinutes) && request.cookMinutes! >= 1 && request.cookMinutes! <= 180)) {
    return { ok: false, kind: 'invalid', field: 'cookMinutes', message: 'accepting an order needs cookMinutes, 1–180' };
  }
  return { ok: true };
}
