import { z } from 'zod';
import { ORDER_STATUSES, type OrderStatus } from '../../domain/orders/state-machine.ts';

/** `POST /v1/orders/:id/transitions`: where to, and what the move needs. */
export const transitionBody = z.object({
  to: z.enum(ORDER_STATUSES, { error: `one of ${ORDER_STATUSES.join(', ')}` }),
  cookMinutes: z.number().int().min(1).max(180).optional(),
  reason: z.string().trim().min(1).max(500).optional(),
  expectedVersion: z.number().int().min(1).optional(),
});

export type TransitionBody = z.output<typeof transitionBody>;

const STATUSES = new Set<string>(ORDER_STATUSES);
const KNOWN = new Set(['to', 'cookMinutes', 'reason', 'expectedVersion']);

/**
 * The common case of `transitionBody`, checked by hand, so a restaurant's acceptance or a rider's
 * "picked up" can skip Express (api/fast-lane.ts; at a hot spot restaurants accept 167 orders a
 * second and every delivery brings four more changes). It returns what `transitionBody` would for
 * a body it accepts and undefined for anything else (an unknown key, a null, a reason to trim);
 * the route then runs `transitionBody`, which names every wrong field. So it may only ever accept
 * what `transitionBody` accepts (tests/transition-body.test.ts compares them).
 */
export function quickTransitionBody(raw: unknown): TransitionBody | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.getPrototypeOf(raw) !== Object.prototype) return undefined;
  const body = raw as Record<string, unknown>;
  for (const key in body) if (!KNOWN.has(key)) return undefined;
  const { to, cookMinutes, reason, expectedVersion } = body;
  if (typeof to !== 'string' || !STATUSES.has(to)) return undefined;
  const out: TransitionBody = { to: to as OrderStatus };
  if (cookMinutes !== undefined) {
    if (typeof cookMinutes !== 'number' || !Number.isSafeInteger(cookMinutes) || cookMinutes < 1 || cookMinutes > 180) return undefined;
    out.cookMinutes = cookMinutes;
  }
  if (reason !== undefined) {
    // zod trims before it measures; only text that needs no trimming is taken here.
    if (typeof reason !== 'string' || reason.length < 1 || reason.length > 500 || reason.trim() !== reason) return undefined;
    out.reason = reason;
  }
  if (expectedVersion !== undefined) {
    if (typeof expectedVersion !== 'number' || !Number.isSafeInteger(expectedVersion) || expectedVersion < 1) return undefined;
    out.expectedVersion = expectedVersion;
  }
  return out;
}
