import type { Knex } from 'knex';
import { z } from 'zod';
import { getOrder, listOrders, orderEvents, orderItems, type OrderRow } from '../../db/orders-repository.ts';
import { isOrderParty } from '../../domain/orders/parties.ts';
import { ROLES } from '../../domain/roles.ts';
import { createStatusChanger } from '../../orders/change-status.ts';
import type { OrderPlacer } from '../../orders/place-order.ts';
import { badRequest, conflict, forbidden, HttpError, notFound } from '../errors.ts';
import { defineRoute } from '../route.ts';
import { orderBody, quickOrderBody } from './order-body.ts';
import { quickTransitionBody, transitionBody } from './transition-body.ts';

const orderId = z.object({ id: z.string().min(1).max(64) });

/** Orders: placing, reading, and moving them through their states. */
export function orderRoutes(deps: { db: Knex; placeOrder: OrderPlacer; kickRelay: () => Promise<void>; startDispatch?: (orderId: string, near: { lat: number; lng: number }) => Promise<void> }) {
  // Transitions arriving together (restaurants accepting at a hot spot) share a read and a commit.
  const changeStatus = createStatusChanger(deps.db);
  return [
    defineRoute({
      method: 'post',
      path: '/v1/orders',
      // Orders arrive by the thousand a second at the peak: matched ahead of the other routes, and a
      // well-formed order from a known customer skips Express altogether (api/fast-lane.ts).
      hot: true,
      roles: ['customer'],
      body: orderBody,
      quickBody: quickOrderBody,
      async handler({ user, body, headers }) {
        const key = headers['idempotency-key'];
        if (key !== undefined && (typeof key !== 'string' || !/^[\w.:-]{1,128}$/.test(key))) {
          throw badRequest('Idempotency-Key: 1–128 letters, digits, "_", "-", "." or ":"', [{ path: 'headers.idempotency-key', message: 'invalid format' }]);
        }
        const result = await deps.placeOrder({ customerId: user.sub, ...body, idempotencyKey: key });
        if (result.kind === 'invalid') throw badRequest(`${result.path}: ${result.message}`, [{ path: result.path, message: result.message }]);
        if (result.kind === 'key-reused') throw new HttpError(422, 'Unprocessable Content', 'this Idempotency-Key was already used for a different order', { orderId: result.orderId });
        // The order is committed; the relay's kick is best effort (its scheduler is the safety
        // net), so the customer's answer does not wait for the job add in Redis.
        if (result.kind === 'created') void deps.kickRelay();
        return {
          status: result.kind === 'created' ? 201 : 200,
          body: { id: result.order.id, status: result.order.status, version: result.order.version, total: result.order.total, eta: eta(result.order) },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orders/:id',
      roles: ROLES,
      params: orderId,
      async handler({ user, params }) {
        const order = await getOrder(deps.db, params.id);
        if (!order) throw notFound(`no order ${params.id}`);
        if (!isOrderParty({ customerId: order.customer_id, coCustomerId: order.co_customer_id, restaurantId: order.restaurant_id, riderId: order.rider_id }, user)) throw forbidden('this order is not yours to read');
        const [items, events] = await Promise.all([orderItems(deps.db, order.id), orderEvents(deps.db, order.id)]);
        return { body: present(order, items, events) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/me/orders',
      roles: ROLES,
      query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      async handler({ user, query }) {
        const orders = await listOrders(deps.db, user, query.limit);
        return { body: { orders: orders.map((o) => ({ id: o.id, status: o.status, version: o.version, restaurantId: o.restaurant_id, total: o.total, createdAt: o.created_at.toISOString(), eta: eta(o) })) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/orders/:id/transitions',
      // Restaurants accept 167 orders a second at a hot spot, and each delivery brings four more
      // changes: a well-formed change from a known caller skips Express (api/fast-lane.ts).
      hot: true,
      roles: ROLES,
      params: orderId,
      body: transitionBody,
      quickBody: quickTransitionBody,
      async handler({ user, params, body }) {
        const result = await changeStatus(params.id, user, body);
        switch (result.kind) {
          case 'not-found':
            throw notFound(`no order ${params.id}`);
          case 'forbidden':
            throw forbidden(result.message);
          case 'invalid':
            throw badRequest(`${result.field}: ${result.message}`, [{ path: result.field, message: result.message }]);
          case 'conflict':
            throw conflict(result.message, { currentStatus: result.status, currentVersion: result.version });
          case 'changed':
            // The change is committed; the relay's kick is best effort (its scheduler is the safety
            // net), so the answer does not wait for it. The restaurant accepted: dispatch starts
            // now, not when the relay comes round (its outbox row still starts it should this
            // enqueue not happen).
            void deps.kickRelay();
            if (result.order.status === 'COOKING') await deps.startDispatch?.(result.order.id, result.restaurant);
            return { body: { id: result.order.id, status: result.order.status, version: result.order.version } };
        }
      },
    }),
  ];
}

function eta(order: OrderRow) {
  return order.eta_at ? { at: order.eta_at.toISOString(), minutes: Math.max(0, Math.round((order.eta_at.getTime() - Date.now()) / 60_000)) } : null;
}

function present(order: OrderRow & { restaurant_name: string }, items: Awaited<ReturnType<typeof orderItems>>, events: Awaited<ReturnType<typeof orderEvents>>) {
  return {
    id: order.id,
    status: order.status,
    version: order.version,
    customerId: order.customer_id,
    coCustomerId: order.co_customer_id,
    restaurant: { id: order.restaurant_id, name: order.restaurant_name },
    riderId: order.rider_id,
    items: items.map((i) => ({ menuItemId: i.menu_item_id, name: i.name, unitPrice: i.unit_price, quantity: i.quantity })),
    subtotal: order.subtotal,
    deliveryTip: order.delivery_tip,
    total: order.total,
    dropoff: { lat: order.dropoff_lat, lng: order.dropoff_lng, address: order.dropoff_address },
    cookMinutes: order.cook_minutes,
    eta: eta(order),
    createdAt: order.created_at.toISOString(),
    history: events.map((e) => ({ version: e.version, from: e.from_status, to: e.to_status, by: e.actor_role, reason: e.reason, at: e.at.toISOString() })),
  };
}
