import type { Knex } from 'knex';
import { z } from 'zod';
import { dispatchHistory } from '../../db/dispatch-repository.ts';
import { getOrder } from '../../db/orders-repository.ts';
import { notFound } from '../errors.ts';
import { defineRoute } from '../route.ts';

/**
 * Ops: how an order's dispatch went, step by step (seed 003's dispatch history). The dispatch as it
 * stands (round, radius, assigned rider), every offer with its answer, and every event
 * (`offered`, `rejected`, `expired`, `accepted`, `widened`, `failed`) with when it happened: what an
 * on-call engineer reads when a customer asks why no rider came.
 */
export function dispatchHistoryRoutes(deps: { db: Knex }) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/orders/:id/dispatch',
      roles: ['admin'],
      params: z.object({ id: z.string().min(1).max(64) }),
      async handler({ params }) {
        const [order, history] = await Promise.all([getOrder(deps.db, params.id), dispatchHistory(deps.db, params.id)]);
        if (!order) throw notFound(`no order ${params.id}`);
        const { dispatch, offers, events } = history;
        return {
          body: {
            orderId: order.id,
            orderStatus: order.status,
            // Null until the restaurant accepts the order and the first matching step opens it.
            dispatch: dispatch
              ? {
                  status: dispatch.status,
                  round: dispatch.round,
                  offersInRound: dispatch.offers_in_round,
                  radiusMeters: dispatch.radius_m,
                  riderId: dispatch.rider_id,
                  startedAt: dispatch.created_at.toISOString(),
                  updatedAt: dispatch.updated_at.toISOString(),
                }
              : null,
            offers: offers.map((o) => ({
              id: o.id,
              riderId: o.rider_id,
              status: o.status,
              distanceMeters: Math.round(o.distance_m),
              expectedEarning: o.expected_earning,
              offeredAt: o.created_at.toISOString(),
              expiresAt: o.expires_at.toISOString(),
              decidedAt: o.decided_at?.toISOString() ?? null,
            })),
            events: events.map((e) => ({ type: e.type, riderId: e.rider_id, detail: e.detail, at: e.at.toISOString() })),
          },
        };
      },
    }),
  ];
}
