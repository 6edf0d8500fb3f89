import { haversineMeters, type LatLng } from '../location/geo.ts';
import type { NotificationEvent } from '../notifications/events.ts';

/** Seed 000: "라이더 도착 임박 알림 (100m 이내)". */
export const ARRIVING_METERS = 100;
/** The restaurant hears when its rider is at the door. */
export const AT_RESTAURANT_METERS = 50;

export interface GeofenceInput {
  orderId: string;
  status: string;
  customerId: string;
  /** A matched group order's joiner hears what its customer hears. */
  coCustomerId?: string | null;
  restaurantId: string;
  rider: LatLng;
  restaurant: LatLng;
  dropoff: LatLng;
}

export interface GeofenceHit {
  event: NotificationEvent;
  userId: string;
  data: Record<string, unknown>;
  /** Once per order: the same key never notifies twice. */
  idempotencyKey: string;
}

/** Pure: which geofence notifications a rider's new position triggers for its order. */
export function geofenceHits(input: GeofenceInput): GeofenceHit[] {
  const hits: GeofenceHit[] = [];
  if (input.status === 'DELIVERING') {
    const metres = haversineMeters(input.rider, input.dropoff);
    if (metres <= ARRIVING_METERS) {
      for (const userId of input.coCustomerId ? [input.customerId, input.coCustomerId] : [input.customerId]) {
        // One key per order: a delivery is told apart by its recipient, so each customer hears once.
        hits.push({ event: 'rider.arriving', userId, data: { orderId: input.orderId, distanceMeters: Math.round(metres) }, idempotencyKey: `arriving:${input.orderId}` });
      }
    }
  }
  if (input.status === 'COOKING' || input.status === 'READY_FOR_PICKUP') {
    if (haversineMeters(input.rider, input.restaurant) <= AT_RESTAURANT_METERS) {
      hits.push({ event: 'restaurant.rider_arrived', userId: input.restaurantId, data: { orderId: input.orderId }, idempotencyKey: `rider-at-restaurant:${input.orderId}` });
    }
  }
  return hits;
}
