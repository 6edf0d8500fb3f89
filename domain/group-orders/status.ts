/**
 * A group order is OPEN until a second customer joins (MATCHED, and a real order is placed) or
 * it closes unmatched (CANCELLED, by its creator or at expiry). MATCHED and CANCELLED are final.
 */
export const GROUP_STATUSES = ['OPEN', 'MATCHED', 'CANCELLED'] as const;
export type GroupStatus = (typeof GROUP_STATUSES)[number];

export const CANCEL_REASONS = ['creator', 'expired'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

/** Seed 002: 300 m이내의 주문만 표시. */
export const NEARBY_METERS = 300;
