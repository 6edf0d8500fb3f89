import { randomUUID } from 'node:crypto';
import { insertGroupOrder, type GroupOrderRow } from '../db/group-orders-repository.ts';
import { hold, InsufficientCreditsError } from '../credits/ledger.ts';
import { creatorShare, type GroupMode } from '../domain/group-orders/split.ts';
import { priceOrder } from '../domain/orders/quote.ts';
import { belowMinimum, checkItems, isTooFar } from '../orders/place-order.ts';
import { creditRef, EXPIRE_JOB, type GroupOrderDeps, type Invalid } from './deps.ts';
import type { GroupCard } from './open-index.ts';

export interface CreateGroupInput {
  creatorId: string;
  restaurantId: string;
  mode: GroupMode;
  /** EACH: the creator's own items; SPLIT: the menu both share. */
  items: Array<{ menuItemId: string; quantity: number }>;
  dropoff: { lat: number; lng: number; address: string };
}

export type CreateGroupResult = { kind: 'created'; group: GroupOrderRow; card: GroupCard } | Invalid;

/**
 * Opens a group: checks the items as an order would, holds the creator's share and lists the group.
 * A SPLIT menu must meet the minimum order on its own (it is the whole order); an EACH creator's
 * items need not, since the minimum counts both parties' items when someone joins.
 *
 * The index entry and the expiry job are written before the commit, so a Redis failure rolls the
 * hold back (the caller gets 503 and nothing is held); if the commit then fails, the orphan job
 * finds no group and removes the orphan entry.
 */
export async function createGroupOrder(deps: GroupOrderDeps, input: CreateGroupInput): Promise<CreateGroupResult> {
  const checked = await checkItems(deps.db, input.restaurantId, input.items);
  if (checked.kind === 'invalid') return checked;
  const { restaurant, lines } = checked;
  const menu = priceOrder(lines, restaurant.deliveryTip).subtotal;
  if (input.mode === 'SPLIT' && menu < restaurant.minOrder) return belowMinimum(restaurant, menu);
  if (isTooFar(restaurant, input.dropoff)) return { kind: 'invalid', path: 'dropoff', message: 'more than 10 km from the restaurant' };

  const id = `grp_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const share = creatorShare(input.mode, menu, restaurant.deliveryTip);
  const expiresAt = new Date(Date.now() + deps.config.groupOrders.expiryMs);
  const card: GroupCard = {
    id,
    restaurantId: restaurant.id,
    restaurantName: restaurant.name,
    category: restaurant.category,
    mode: input.mode,
    deliveryTip: restaurant.deliveryTip,
    menuTotal: menu,
    address: input.dropoff.address,
    lat: input.dropoff.lat,
    lng: input.dropoff.lng,
    expiresAt: expiresAt.getTime(),
  };
  const group = await deps.db.transaction(async (trx) => {
    const row = await insertGroupOrder(
      trx,
      {
        id,
        creator_id: input.creatorId,
        restaurant_id: restaurant.id,
        category: restaurant.category,
        mode: input.mode,
        dropoff_lat: input.dropoff.lat,
        dropoff_lng: input.dropoff.lng,
        dropoff_address: input.dropoff.address,
        delivery_tip: restaurant.deliveryTip,
        creator_menu: menu,
        creator_share: share,
        expires_at: expiresAt,
      },
      lines.map((l) => ({ user_id: input.creatorId, menu_item_id: l.menuItemId, name: l.name, unit_price: l.unitPrice, quantity: l.quantity })),
    );
    try {
      await hold(trx, { userId: input.creatorId, amount: share, ref: creditRef(id), memo: `공동주문 ${restaurant.name}` }, deps.config.credits);
    } catch (err) {
      if (err instanceof InsufficientCreditsError) throw new InsufficientCreditsError(err.available, err.required, 'items');
      throw err;
    }
    await deps.index.add(card);
    await deps.queues.get('groupOrders').add(EXPIRE_JOB, { groupOrderId: id, lat: card.lat, lng: card.lng }, { jobId: id, delay: deps.config.groupOrders.expiryMs });
    return row;
  });
  return { kind: 'created', group, card };
}
