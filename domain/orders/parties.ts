/**
 * Who may see an order: its customer (and, for a matched group order, the joiner who shares it:
 * its co-customer), its restaurant, its assigned rider, and admins. The role must match the seat
 * too: a rider whose id happens to equal a customer's is not that customer.
 *
 * Changing an order (state-machine.ts) passes no co-customer: only the creator cancels a group's
 * order, as only the creator could cancel the group while it was open.
 */
export function isOrderParty(order: { customerId: string; coCustomerId?: string | null; restaurantId: string; riderId: string | null }, user: { role: string; sub: string }): boolean {
  switch (user.role) {
    case 'admin':
      return true;
    case 'customer':
      return order.customerId === user.sub || (Boolean(order.coCustomerId) && order.coCustomerId === user.sub);
    case 'restaurant':
      return order.restaurantId === user.sub;
    case 'rider':
      return order.riderId === user.sub;
    default:
      return false;
  }
}
