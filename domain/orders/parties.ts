/**
 * Who may see an order: its customer, its restaurant, its assigned rider, and admins. The role
 * must match the seat too: a rider whose id happens to equal a customer's is not that customer.
 */
export function isOrderParty(order: { customerId: string; restaurantId: string; riderId: string | null }, user: { role: string; sub: string }): boolean {
  switch (user.role) {
    case 'admin':
      return true;
    case 'customer':
      return order.customerId === user.sub;
    case 'restaurant':
      return order.restaurantId === user.sub;
    case 'rider':
      return order.riderId === user.sub;
    default:
      return false;
  }
}
