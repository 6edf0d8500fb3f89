import { z } from 'zod';
import { getGroupOrder, groupItems, listGroupsOf, type GroupOrderRow } from '../../db/group-orders-repository.ts';
import { GROUP_MODES } from '../../domain/group-orders/split.ts';
import { NEARBY_METERS } from '../../domain/group-orders/status.ts';
import { ROLES } from '../../domain/roles.ts';
import { cancelGroupOrder } from '../../group-orders/close.ts';
import { createGroupOrder } from '../../group-orders/create.ts';
import type { GroupOrderDeps } from '../../group-orders/deps.ts';
import { joinGroupOrder } from '../../group-orders/join.ts';
import { badRequest, conflict, forbidden, notFound } from '../errors.ts';
import { defineRoute } from '../route.ts';
import { nearbyQuery, quickNearbyQuery } from './nearby-query.ts';

const items = z
  .array(z.object({ menuItemId: z.string().min(1).max(64), quantity: z.number().int('a whole number').min(1, 'at least 1').max(50, 'at most 50') }))
  .max(50, 'at most 50 lines');
const groupId = z.object({ id: z.string().min(1).max(64) });

/** Group orders (seed 002): neighbours within 300 m share one delivery and its tip. */
export function groupOrderRoutes(deps: GroupOrderDeps) {
  const invalid = (r: { path: string; message: string }) => badRequest(`${r.path}: ${r.message}`, [{ path: r.path, message: r.message }]);
  return [
    defineRoute({
      method: 'post',
      path: '/v1/group-orders',
      roles: ['customer'],
      body: z.object({
        restaurantId: z.string().min(1).max(64),
        mode: z.enum(GROUP_MODES, { error: 'SPLIT (one shared menu, everything halved) or EACH (own menus, tip halved)' }),
        items: items.min(1, 'at least one item'),
        dropoff: z.object({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180), address: z.string().trim().min(1).max(300) }),
      }),
      async handler({ user, body }) {
        const result = await createGroupOrder(deps, { creatorId: user.sub, ...body });
        if (result.kind === 'invalid') throw invalid(result);
        return { status: 201, body: { ...present(result.group), items: body.items } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/group-orders',
      // Every customer's app refreshes this list: matched ahead of the other routes.
      hot: true,
      roles: ROLES,
      query: nearbyQuery,
      // The common query, checked without zod, lets the request skip Express (api/fast-lane.ts).
      quickQuery: quickNearbyQuery,
      async handler({ query }) {
        // The entries are stored as the JSON listed here (group-orders/open-index.ts listEntry).
        const found = await deps.index.nearbyJson({ ...query, radiusMeters: NEARBY_METERS, now: Date.now() });
        return { json: `{"radiusMeters":${NEARBY_METERS},"groupOrders":[${found.join(',')}]}` };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/me/group-orders',
      roles: ROLES,
      query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      async handler({ user, query }) {
        return { body: { groupOrders: (await listGroupsOf(deps.db, user.sub, query.limit)).map((g) => ({ ...present(g), role: g.creator_id === user.sub ? 'creator' : 'joiner' })) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/group-orders/:id',
      roles: ROLES,
      params: groupId,
      async handler({ user, params }) {
        const group = await getGroupOrder(deps.db, params.id);
        if (!group) throw notFound(`no group order ${params.id}`);
        // An open group is public to nearby customers; a closed one only to its parties.
        const party = user.role === 'admin' || user.sub === group.creator_id || user.sub === group.joiner_id;
        if (group.status !== 'OPEN' && !party) throw forbidden('this group order is not yours to read');
        const lines = await groupItems(deps.db, group.id);
        return {
          body: {
            ...present(group),
            items: lines
              .filter((l) => party || l.user_id === group.creator_id)
              .map((l) => ({ by: l.user_id === group.creator_id ? 'creator' : 'joiner', menuItemId: l.menu_item_id, name: l.name, unitPrice: l.unit_price, quantity: l.quantity })),
          },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/group-orders/:id/join',
      roles: ['customer'],
      params: groupId,
      body: z.object({ items: items.optional() }),
      async handler({ user, params, body }) {
        const result = await joinGroupOrder(deps, { groupOrderId: params.id, joinerId: user.sub, items: body.items });
        switch (result.kind) {
          case 'not-found':
            throw notFound(`no group order ${params.id}`);
          case 'invalid':
            throw invalid(result);
          case 'conflict':
            throw conflict(result.message, { currentStatus: result.group.status });
          case 'matched':
            return { body: { ...present(result.group), order: { id: result.order.id, status: result.order.status, total: result.order.total } } };
        }
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/group-orders/:id/cancel',
      roles: ['customer'],
      params: groupId,
      async handler({ user, params }) {
        const result = await cancelGroupOrder(deps, { groupOrderId: params.id, userId: user.sub });
        switch (result.kind) {
          case 'not-found':
            throw notFound(`no group order ${params.id}`);
          case 'forbidden':
            throw forbidden('only the creator may cancel a group order');
          case 'conflict':
            throw conflict(`this group order is ${result.group.status.toLowerCase()} and can no longer be cancelled`, { currentStatus: result.group.status });
          case 'cancelled':
            return { body: present(result.group) };
        }
      },
    }),
  ];
}

function present(g: GroupOrderRow) {
  return {
    id: g.id,
    status: g.status,
    cancelReason: g.cancel_reason,
    mode: g.mode,
    restaurantId: g.restaurant_id,
    creatorId: g.creator_id,
    joinerId: g.joiner_id,
    dropoff: { lat: g.dropoff_lat, lng: g.dropoff_lng, address: g.dropoff_address },
    deliveryTip: g.delivery_tip,
    shares: { creator: g.creator_share, joiner: g.joiner_share },
    orderId: g.order_id,
    expiresAt: g.expires_at.toISOString(),
    createdAt: g.created_at.toISOString(),
  };
}
