import { getGroupOrder, lockGroupOrder, markCancelled, type GroupOrderRow } from '../db/group-orders-repository.ts';
import { appendOutbox } from '../db/orders-repository.ts';
import { getRestaurant } from '../db/restaurants-repository.ts';
import { release } from '../credits/ledger.ts';
import { afterCommit, creditRef, EXPIRE_JOB, notifyMessage, type GroupOrderDeps } from './deps.ts';

export type CancelResult =
  | { kind: 'cancelled'; group: GroupOrderRow }
  | { kind: 'not-found' }
  | { kind: 'forbidden' }
  | { kind: 'conflict'; group: GroupOrderRow };

/** The creator withdraws an open group: the hold goes back. A matched or closed group is a 409. */
export async function cancelGroupOrder(deps: GroupOrderDeps, input: { groupOrderId: string; userId: string }): Promise<CancelResult> {
  const result = await deps.db.transaction(async (trx): Promise<CancelResult> => {
    const group = await lockGroupOrder(trx, input.groupOrderId);
    if (!group) return { kind: 'not-found' };
    if (group.creator_id !== input.userId) return { kind: 'forbidden' };
    const cancelled = group.status === 'OPEN' ? await markCancelled(trx, group.id, 'creator') : undefined;
    if (!cancelled) return { kind: 'conflict', group };
    await release(trx, { userId: group.creator_id, ref: creditRef(group.id), memo: '공동주문 취소' }, deps.config.credits);
    return { kind: 'cancelled', group: cancelled };
  });
  if (result.kind === 'cancelled') await unlist(deps, result.group);
  return result;
}

export type ExpireResult = { kind: 'expired'; group: GroupOrderRow } | { kind: 'not-due' | 'closed' | 'missing' };

/**
 * Closes an open group whose time is up: CANCELLED (expired), the creator's hold released and the
 * creator told, all in one transaction. Run by the delayed job and by the reconciler; the
 * conditional update lets exactly one of them (or a racing join) change the group, and a repeat
 * only re-unlists it.
 */
export async function expireGroupOrder(deps: GroupOrderDeps, input: { groupOrderId: string; lat?: number; lng?: number }): Promise<ExpireResult> {
  const result = await deps.db.transaction(async (trx): Promise<ExpireResult> => {
    const group = await lockGroupOrder(trx, input.groupOrderId);
    if (!group) return { kind: 'missing' };
    if (group.status !== 'OPEN') return { kind: 'closed' };
    const expired = await markCancelled(trx, group.id, 'expired');
    if (!expired) return { kind: 'not-due' };
    const refunded = group.creator_share;
    await release(trx, { userId: group.creator_id, ref: creditRef(group.id), memo: '공동주문 시간 초과' }, deps.config.credits);
    const restaurant = await getRestaurant(trx, group.restaurant_id);
    await appendOutbox(trx, [
      notifyMessage({
        event: 'group.expired',
        recipient: { userId: group.creator_id },
        channels: ['push'],
        data: { groupOrderId: group.id, restaurantName: restaurant?.name ?? group.restaurant_id, refunded },
        idempotencyKey: `group:${group.id}:expired`,
      }),
    ]);
    return { kind: 'expired', group: expired };
  });
  if (result.kind === 'expired') {
    await unlist(deps, result.group);
    await deps.kickRelay();
  } else if (result.kind !== 'not-due') {
    // Closed by a join or cancel whose unlisting failed, or never committed: make sure it is not listed.
    const group = await getGroupOrder(deps.db, input.groupOrderId);
    const where = group ? { lat: group.dropoff_lat, lng: group.dropoff_lng } : input.lat !== undefined && input.lng !== undefined ? { lat: input.lat, lng: input.lng } : undefined;
    if (where) await deps.index.remove({ id: input.groupOrderId, ...where });
  }
  return result;
}

/** Takes a closed group off the nearby list and drops its expiry job; both are also redone later. */
export async function unlist(deps: GroupOrderDeps, group: GroupOrderRow): Promise<void> {
  await afterCommit(deps, 'unlisting', () => deps.index.remove({ id: group.id, lat: group.dropoff_lat, lng: group.dropoff_lng }));
  await afterCommit(deps, 'dropping the expiry job', async () => {
    const job = await deps.queues.get('groupOrders').getJob(group.id);
    // The expiry job calling us is active and locked; only a waiting or delayed one is removed.
    if (job && job.name === EXPIRE_JOB && (await job.isDelayed())) await job.remove();
  });
}
