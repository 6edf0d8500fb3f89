import { z } from 'zod';

/** `POST /v1/orders`: a restaurant, 1–50 lines of its menu, and where to bring them. */
export const orderBody = z.object({
  restaurantId: z.string().min(1).max(64),
  items: z.array(z.object({ menuItemId: z.string().min(1).max(64), quantity: z.number().int().min(1).max(50) })).min(1).max(50),
  dropoff: z.object({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180), address: z.string().trim().min(1).max(300) }),
});

export type OrderBody = z.output<typeof orderBody>;

/**
 * The common case of `orderBody`, checked by hand, so a well-formed order can skip Express
 * (api/fast-lane.ts). It returns what `orderBody` would for a body it accepts and undefined for
 * anything else; the route then runs `orderBody`, which names every wrong field. So it may only
 * ever accept what `orderBody` accepts (tests/order-body.test.ts compares them).
 */
export function quickOrderBody(raw: unknown): OrderBody | undefined {
  if (!isPlainObject(raw)) return undefined;
  const { restaurantId, items, dropoff } = raw;
  if (!isId(restaurantId)) return undefined;
  if (!Array.isArray(items) || items.length < 1 || items.length > 50) return undefined;
  const lines: OrderBody['items'] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    if (!isPlainObject(item)) return undefined;
    const { menuItemId, quantity } = item;
    if (!isId(menuItemId) || typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 1 || quantity > 50) return undefined;
    lines[i] = { menuItemId, quantity };
  }
  if (!isPlainObject(dropoff)) return undefined;
  const { lat, lng, address } = dropoff;
  if (typeof lat !== 'number' || !(lat >= -90 && lat <= 90)) return undefined;
  if (typeof lng !== 'number' || !(lng >= -180 && lng <= 180)) return undefined;
  if (typeof address !== 'string') return undefined;
  // zod trims before it measures, and hands the trimmed text on.
  const trimmed = address.trim();
  if (trimmed.length < 1 || trimmed.length > 300) return undefined;
  // zod's output holds the known keys, in schema order, and drops the rest.
  return { restaurantId, items: lines, dropoff: { lat, lng, address: trimmed } };
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= 64;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
