import type { OrderItemRow, OrderRow, OutboxMessage } from '../db/orders-repository.ts';
import type { StatusChange } from '../domain/orders/status-notifications.ts';
import type { OrderStatus } from '../domain/orders/state-machine.ts';

export const STATUS_TOPIC = 'order.status';
/** A `notify()` input written in the same transaction as the change it announces (group orders use it). */
export const NOTIFY_TOPIC = 'notify';

/** The outbox record of a committed status change: everything the relay needs, no lookups later. */
export function statusChangeMessage(
  order: OrderRow,
  restaurant: { name: string; lat: number; lng: number },
  from: OrderStatus | null,
  items: Pick<OrderItemRow, 'quantity'>[],
  reason: string | null,
): OutboxMessage {
  const etaMinutes = order.eta_at ? Math.max(0, Math.round((order.eta_at.getTime() - Date.now()) / 60_000)) : null;
  const payload: StatusChange = {
    orderId: order.id,
    version: order.version,
    from,
    to: order.status,
    customerId: order.customer_id,
    coCustomerId: order.co_customer_id,
    restaurantId: order.restaurant_id,
    restaurantName: restaurant.name,
    riderId: order.rider_id,
    cookMinutes: order.cook_minutes,
    etaMinutes,
    reason,
    itemCount: items.reduce((n, i) => n + i.quantity, 0),
    total: order.total,
    restaurant: { lat: restaurant.lat, lng: restaurant.lng },
    dropoff: { lat: order.dropoff_lat, lng: order.dropoff_lng },
    etaAt: order.eta_at?.toISOString() ?? null,
    at: order.updated_at.toISOString(),
  };
  return { topic: STATUS_TOPIC, payload: payload as unknown as Record<string, unknown> };
}
