import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, ORDER_STATUSES, TERMINAL, type OrderParties, type OrderStatus } from '../domain/orders/state-machine.ts';
import { ROLES, type Role } from '../domain/roles.ts';

const parties = (status: OrderStatus): OrderParties => ({ status, customerId: 'c-1', restaurantId: 'rest-1', riderId: 'r-1' });
const own: Record<Role, string> = { customer: 'c-1', restaurant: 'rest-1', rider: 'r-1', admin: 'ops' };

/** The whole table, written out by hand from the issue: who may move an order from where to where. */
const ALLOWED = new Set([
  'PLACED→COOKING:restaurant',
  'PLACED→REJECTED:restaurant',
  'PLACED→CANCELLED:customer',
  'COOKING→READY_FOR_PICKUP:restaurant',
  'READY_FOR_PICKUP→PICKED_UP:rider',
  'PICKED_UP→DELIVERING:rider',
  'DELIVERING→DELIVERED:rider',
  // Admins: every edge above, and cancelling any open order.
  'PLACED→COOKING:admin',
  'PLACED→REJECTED:admin',
  'PLACED→CANCELLED:admin',
  'COOKING→READY_FOR_PICKUP:admin',
  'COOKING→CANCELLED:admin',
  'READY_FOR_PICKUP→PICKED_UP:admin',
  'READY_FOR_PICKUP→CANCELLED:admin',
  'PICKED_UP→DELIVERING:admin',
  'PICKED_UP→CANCELLED:admin',
  'DELIVERING→DELIVERED:admin',
  'DELIVERING→CANCELLED:admin',
]);

describe('order state machine', () => {
  it('checks every (state, role, target) combination against the table', () => {
    let checked = 0;
    for (const from of ORDER_STATUSES) {
      for (const role of ROLES) {
        for (const to of ORDER_STATUSES) {
          const decision = decide(parties(from), { role, sub: own[role] }, { to, cookMinutes: 20, reason: 'ops override' });
          const expected = ALLOWED.has(`${from}→${to}:${role}`);
          assert.equal(decision.ok, expected, `${from} → ${to} by ${role}: ${JSON.stringify(decision)}`);
          if (!decision.ok && TERMINAL.has(from)) assert.equal(decision.kind, 'illegal');
          checked++;
        }
      }
    }
    assert.equal(checked, 8 * 4 * 8);
  });

  it('a customer may cancel only before cooking starts', () => {
    assert.deepEqual(decide(parties('PLACED'), { role: 'customer', sub: 'c-1' }, { to: 'CANCELLED' }), { ok: true });
    const late = decide(parties('COOKING'), { role: 'customer', sub: 'c-1' }, { to: 'CANCELLED' });
    assert.equal(late.ok, false);
    assert.equal(!late.ok && late.kind, 'illegal');
  });

  it('only the order’s own customer, restaurant and rider may touch it', () => {
    for (const [role, sub] of [['customer', 'c-2'], ['restaurant', 'rest-2'], ['rider', 'r-2']] as const) {
      const d = decide(parties('PLACED'), { role, sub }, { to: 'CANCELLED' });
      assert.equal(!d.ok && d.kind, 'forbidden', `${role} ${sub}`);
    }
  });

  it('the wrong party for a move is forbidden, not illegal', () => {
    const d = decide(parties('COOKING'), { role: 'rider', sub: 'r-1' }, { to: 'READY_FOR_PICKUP' });
    assert.equal(!d.ok && d.kind, 'forbidden');
    assert.match(!d.ok ? d.message : '', /for the restaurant, not the rider/);
  });

  it('accepting needs cookMinutes and admins need a reason', () => {
    const noMinutes = decide(parties('PLACED'), { role: 'restaurant', sub: 'rest-1' }, { to: 'COOKING' });
    assert.equal(!noMinutes.ok && noMinutes.kind === 'invalid' && noMinutes.field, 'cookMinutes');
    const noReason = decide(parties('PLACED'), { role: 'admin', sub: 'ops' }, { to: 'CANCELLED' });
    assert.equal(!noReason.ok && noReason.kind === 'invalid' && noReason.field, 'reason');
  });

  it('an order without a rider cannot be moved by any rider', () => {
    const d = decide({ ...parties('READY_FOR_PICKUP'), riderId: null }, { role: 'rider', sub: 'r-1' }, { to: 'PICKED_UP' });
    assert.equal(!d.ok && d.kind, 'forbidden');
  });
});
