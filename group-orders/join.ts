import { addGroupItems, groupItems, lockGroupOrder, markMatched, type GroupOrderRow } from '../db/group-orders-repository.ts';
import { appendOutbox, insertOrder, type OrderRow } from '../db/orders-repository.ts';
import { capture, hold, InsufficientCreditsError } from '../credits/ledger.ts';
import { splitShares } from '../domain/group-orders/split.ts';
import type { PricedLine } from '../domain/orders/quote.ts';
import { belowMinimum, checkItems, newOrderRecords } from '../orders/place-order.ts';
import { unlist } from './close.ts';
import { creditRef, notifyMessage, type GroupOrderDeps, type Invalid } from './deps.ts';

export type JoinResult =
  | { kind: 'matched'; group: GroupOrderRow; order: OrderRow }
  | { kind: 'not-found' }
  | { kind: 'conflict'; message: string; group: GroupOrderRow }
  | Invalid;

/**
 * A second customer joins an open group: in one transaction, with the group row locked, the
 * joiner's items are checked, the minimum order is checked over both parties' items, the joiner's
 * share is held and both shares captured, one real order is placed for the creator's drop-off, and
 * the group becomes MATCHED. Anything refused rolls all of it back, so a losing joiner moves no money.
 *
 * Prices: the creator's items keep the prices they were held at; the joiner's items are priced
 * now, except an item the creator already chose, which takes the group's price (one order line per
 * item). So the creator's captured share is exactly the hold, and the shares add up to the order.
 */
export async function joinGroupOrder(
  deps: GroupOrderDeps,
  input: { groupOrderId: string; joinerId: string; items?: Array<{ menuItemId: string; quantity: number }> },
): Promise<JoinResult> {
  const result = await deps.db.transaction(async (trx): Promise<JoinResult> => {
    const group = await lockGroupOrder(trx, input.groupOrderId);
    if (!group) return { kind: 'not-found' };
    if (group.status !== 'OPEN') return { kind: 'conflict', message: `this group order is ${group.status.toLowerCase()}`, group };
    if (group.expires_at.getTime() <= Date.now()) return { kind: 'conflict', message: 'this group order has expired', group };
    if (group.creator_id === input.joinerId) return { kind: 'conflict', message: 'you created this group order; wait for a neighbour to join', group };
    const mine = input.items ?? [];
    if (group.mode === 'SPLIT' && mine.length > 0) return { kind: 'invalid', path: 'items', message: 'a SPLIT group shares the creator’s menu; send no items' };
    if (group.mode === 'EACH' && mine.length === 0) return { kind: 'invalid', path: 'items', message: 'an EACH group needs your own items' };

    const checked = await checkItems(trx, group.restaurant_id, mine);
    if (checked.kind === 'invalid') return checked;
    const { restaurant } = checked;
    const creatorLines = (await groupItems(trx, group.id)).map((i): PricedLine => ({ menuItemId: i.menu_item_id, name: i.name, unitPrice: i.unit_price, quantity: i.quantity }));
    const groupPrice = new Map(creatorLines.map((l) => [l.menuItemId, l.unitPrice]));
    const joinerLines = checked.lines.map((l) => ({ ...l, unitPrice: groupPrice.get(l.menuItemId) ?? l.unitPrice }));
    const joinerMenu = joinerLines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
    const combined = group.creator_menu + joinerMenu;
    if (combined < restaurant.minOrder) return belowMinimum(restaurant, combined);

    const shares = splitShares({ mode: group.mode, creatorMenu: group.creator_menu, joinerMenu, deliveryTip: group.delivery_tip });
    if (shares.creator !== group.creator_share) throw new Error(`group ${group.id}: creator share ${shares.creator} differs from the ${group.creator_share} held`);
    const ref = creditRef(group.id);
    try {
      if (shares.joiner > 0) await hold(trx, { userId: input.joinerId, amount: shares.joiner, ref, memo: `공동주문 ${restaurant.name}` }, deps.config.credits);
    } catch (err) {
      if (err instanceof InsufficientCreditsError) throw new InsufficientCreditsError(err.available, err.required, 'items');
      throw err;
    }
    await capture(trx, { userId: group.creator_id, ref }, deps.config.credits);
    if (shares.joiner > 0) await capture(trx, { userId: input.joinerId, ref }, deps.config.credits);

    const records = newOrderRecords({
      customerId: group.creator_id,
      coCustomerId: input.joinerId,
      restaurant,
      lines: mergeLines(creatorLines, joinerLines),
      dropoff: { lat: group.dropoff_lat, lng: group.dropoff_lng, address: group.dropoff_address },
      idempotencyKey: `group:${group.id}`,
      requestHash: null,
      deliveryTip: group.delivery_tip,
    });
    if (records.row.total !== shares.total) throw new Error(`group ${group.id}: order total ${records.row.total} differs from the shares' ${shares.total}`);
    const order = await insertOrder(trx, records.row, records.items, records.event, records.outbox);
    const matched = await markMatched(trx, group.id, { joiner_id: input.joinerId, joiner_menu: joinerMenu, joiner_share: shares.joiner, order_id: order.id });
    if (!matched) throw new Error(`group ${group.id} changed while locked`);
    await addGroupItems(
      trx,
      group.id,
      joinerLines.map((l) => ({ user_id: input.joinerId, menu_item_id: l.menuItemId, name: l.name, unit_price: l.unitPrice, quantity: l.quantity })),
    );
    await appendOutbox(
      trx,
      [
        { userId: group.creator_id, share: shares.creator },
        { userId: input.joinerId, share: shares.joiner },
      ].map(({ userId, share }) =>
        notifyMessage({
          event: 'group.matched',
          recipient: { userId },
          channels: ['push'],
          data: { groupOrderId: group.id, orderId: order.id, restaurantName: restaurant.name, share },
          idempotencyKey: `group:${group.id}:matched`,
        }),
      ),
    );
    return { kind: 'matched', group: matched, order };
  });
  if (result.kind === 'matched') {
    await unlist(deps, result.group);
    await deps.kickRelay();
  }
  return result;
}

/** One line per menu item: the same item chosen by both parties is one line with both quantities. */
function mergeLines(a: readonly PricedLine[], b: readonly PricedLine[]): PricedLine[] {
  const merged = new Map<string, PricedLine>();
  for (const line of [...a, ...b]) {
    const seen = merged.get(line.menuItemId);
    merged.set(line.menuItemId, seen ? { ...seen, quantity: seen.quantity + line.quantity } : { ...line });
  }
  return [...merged.values()];
}
