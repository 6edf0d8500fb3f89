/** Who a caller is. Every token carries exactly one. */
export const ROLES = ['customer', 'rider', 'restaurant', 'admin'] as const;

export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
