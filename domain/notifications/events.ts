import { z } from 'zod';

/**
 * Every notification deligo sends, with the data its template needs. Producers are checked
 * against these schemas when they call `notify`, so a missing field fails in the caller.
 */
const id = z.string().min(1);
const won = z.number().int().nonnegative();

export const EVENT_DATA = {
  // Customer: order status (seed 000: 주문접수 → 조리중 → 픽업대기 → 픽업완료 → 배달중 → 배달완료).
  'order.placed': z.object({ orderId: id, restaurantName: z.string() }),
  'order.cooking': z.object({ orderId: id, restaurantName: z.string(), cookMinutes: z.number().int().positive() }),
  'order.ready_for_pickup': z.object({ orderId: id, restaurantName: z.string() }),
  'order.picked_up': z.object({ orderId: id, etaMinutes: z.number().int().nonnegative().optional() }),
  'order.delivering': z.object({ orderId: id, etaMinutes: z.number().int().nonnegative() }),
  'order.delivered': z.object({ orderId: id }),
  'order.cancelled': z.object({ orderId: id, reason: z.string().optional() }),
  'order.rejected': z.object({ orderId: id, restaurantName: z.string(), reason: z.string().optional() }),
  'rider.arriving': z.object({ orderId: id, distanceMeters: z.number().nonnegative() }),
  'order.no_rider': z.object({ orderId: id }),
  // Restaurant.
  'restaurant.rider_arrived': z.object({ orderId: id }),
  'restaurant.new_order': z.object({ orderId: id, itemCount: z.number().int().positive(), total: won }),
  // Rider.
  'dispatch.offer': z.object({
    offerId: id,
    orderId: id,
    restaurantName: z.string(),
    distanceMeters: z.number().nonnegative(),
    expectedEarning: won,
    expiresInSeconds: z.number().int().positive(),
  }),
  'dispatch.offer_withdrawn': z.object({ offerId: id, orderId: id }),
  'pickup.ready': z.object({ orderId: id, restaurantName: z.string() }),
  // Gifts (seed 004).
  'gift.reserved': z.object({ giftId: id, productName: z.string(), recipientName: z.string(), sendAt: z.string() }),
  'gift.sent': z.object({ giftId: id, productName: z.string(), recipientName: z.string() }),
  'gift.received': z.object({ giftId: id, productName: z.string(), senderName: z.string(), link: z.string(), validUntil: z.string() }),
  'gift.expiring': z.object({ giftId: id, productName: z.string(), daysLeft: z.union([z.literal(3), z.literal(1)]), validUntil: z.string(), link: z.string() }),
  'gift.opened': z.object({ giftId: id, productName: z.string(), recipientName: z.string() }),
  'gift.cancelled': z.object({ giftId: id, productName: z.string(), recipientName: z.string(), refunded: won }),
  'gift.failed': z.object({ giftId: id, productName: z.string(), recipientName: z.string(), refunded: won }),
  'gift.expired': z.object({ giftId: id, productName: z.string(), recipientName: z.string(), refunded: won }),
  // Group orders (seed 002): both parties hear about the match; the creator about an expiry.
  'group.matched': z.object({ groupOrderId: id, orderId: id, restaurantName: z.string(), share: won }),
  'group.expired': z.object({ groupOrderId: id, restaurantName: z.string(), refunded: won }),
  // Ops.
  'ops.fraud_alert': z.object({ alertId: id, riderId: id, rule: z.string(), detail: z.string() }),
  'ops.dispatch_failed': z.object({ orderId: id, attempts: z.number().int().nonnegative(), reason: z.string() }),
} as const;

export type NotificationEvent = keyof typeof EVENT_DATA;

export type EventData<E extends NotificationEvent> = z.output<(typeof EVENT_DATA)[E]>;

export const NOTIFICATION_EVENTS = Object.keys(EVENT_DATA) as NotificationEvent[];

export function isNotificationEvent(value: string): value is NotificationEvent {
  return Object.hasOwn(EVENT_DATA, value);
}
