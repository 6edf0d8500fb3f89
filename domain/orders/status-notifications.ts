import type { NotificationEvent } from '../notifications/events.ts';
import type { OrderStatus } from './state-machine.ts';

/** What the outbox records for every committed status change. */
export interface StatusChange {
  orderId: string;
  version: number;
  from: OrderStatus | null;
  to: OrderStatus;
  customerId: string;
  /** A matched group order's joiner; absent in messages written by older versions. */
  coCustomerId?: string | null;
  restaurantId: string;
  restaurantName: string;
  riderId: string | null;
  cookMinutes: number | null;
  etaMinutes: number | null;
  reason: string | null;
  itemCount: number;
  total: number;
  /** For the live tracking view, which is kept in Redis. */
  restaurant: { lat: number; lng: number };
  dropoff: { lat: number; lng: number };
  etaAt: string | null;
  /** When the change was committed (ISO); absent in messages written by older versions. */
  at?: string;
}

export interface PlannedNotification {
  event: NotificationEvent;
  userId: string;
  data: Record<string, unknown>;
}

/**
 * Pure: who hears about a status change, and with which template. A group order's joiner hears
 * everything its customer (the group's creator) hears.
 */
export function notificationsFor(change: StatusChange): PlannedNotification[] {
  const planned = forSeats(change);
  const co = change.coCustomerId;
  if (!co || co === change.customerId) return planned;
  return planned.flatMap((p) => (p.userId === change.customerId && p.event.startsWith('order.') ? [p, { ...p, userId: co }] : [p]));
}

function forSeats(change: StatusChange): PlannedNotification[] {
  const { orderId, customerId, restaurantId, riderId, restaurantName } = change;
  const eta = change.etaMinutes ?? undefined;
  switch (change.to) {
    case 'PLACED':
      return [
        { event: 'order.placed', userId: customerId, data: { orderId, restaurantName } },
        { event: 'restaurant.new_order', userId: restaurantId, data: { orderId, itemCount: change.itemCount, total: change.total } },
      ];
    case 'COOKING':
      return [{ event: 'order.cooking', userId: customerId, data: { orderId, restaurantName, cookMinutes: change.cookMinutes ?? 1 } }];
    case 'READY_FOR_PICKUP':
      return [
        { event: 'order.ready_for_pickup', userId: customerId, data: { orderId, restaurantName } },
        ...(riderId ? [{ event: 'pickup.ready' as const, userId: riderId, data: { orderId, restaurantName } }] : []),
      ];
    case 'PICKED_UP':
      return [{ event: 'order.picked_up', userId: customerId, data: { orderId, etaMinutes: eta } }];
    case 'DELIVERING':
      return [{ event: 'order.delivering', userId: customerId, data: { orderId, etaMinutes: eta ?? 0 } }];
    case 'DELIVERED':
      return [{ event: 'order.delivered', userId: customerId, data: { orderId } }];
    case 'REJECTED':
      return [{ event: 'order.rejected', userId: customerId, data: { orderId, restaurantName, reason: change.reason ?? undefined } }];
    case 'CANCELLED':
      return [
        { event: 'order.cancelled', userId: customerId, data: { orderId, reason: change.reason ?? undefined } },
        { event: 'order.cancelled', userId: restaurantId, data: { orderId, reason: change.reason ?? undefined } },
        ...(riderId ? [{ event: 'order.cancelled' as const, userId: riderId, data: { orderId, reason: change.reason ?? undefined } }] : []),
      ];
  }
}
