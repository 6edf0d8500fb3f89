import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { OrderTracking, TrackingJson } from '../../location/order-tracking.ts';
import type { ChannelHub } from '../../runtime/channel-hub.ts';
import { isOrderParty } from '../../domain/orders/parties.ts';
import { ROLES } from '../../domain/roles.ts';
import type { Identity } from '../../runtime/tokens.ts';
import { forbidden, notFound } from '../errors.ts';
import { defineRoute } from '../route.ts';

/** Streams send a comment this often, so proxies keep idle connections open. */
const KEEPALIVE_MS = 15_000;

/** Only the order's customer, its rider, its restaurant and admins may watch it. */
function authorize(view: TrackingJson | undefined, orderId: string, user: Identity): TrackingJson {
  if (!view) throw notFound(`no active tracking for order ${orderId}`);
  if (!isOrderParty(view, user)) throw forbidden('this order is not yours to track');
  return view;
}

/** `GET /v1/orders/:id/tracking`: served from Redis alone. */
export function trackingRoutes(deps: { tracking: OrderTracking }) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/orders/:id/tracking',
      hot: true,
      roles: ROLES,
      params: z.object({ id: z.string().min(1).max(64) }),
      async handler({ params, user }) {
        // One HMGET: who may read, and the view already serialized (without customerId and
        // restaurantId), sent as it is stored.
        return { json: authorize(await deps.tracking.readJson(params.id), params.id, user).json };
      },
    }),
  ];
}

/**
 * `GET /v1/orders/:id/tracking/stream` (text/event-stream): a `snapshot` event, then an `update`
 * event for every status change and rider position, as they are published.
 */
export function trackingStream(deps: { tracking: OrderTracking; hub: ChannelHub }): RequestHandler {
  return async (req, res, next) => {
    try {
      const orderId = String(req.params.id);
      authorize(await deps.tracking.readJson(orderId), orderId, req.user!);
      // Subscribe before taking the snapshot, holding updates back until it is sent: nothing
      // published in between can fall through the gap.
      const held: string[] = [];
      let live = false;
      const send = (event: string, data: string) => res.write(`event: ${event}\ndata: ${data}\n\n`);
      const stop = await deps.hub.listen(deps.tracking.channel(orderId), (message) => (live ? send('update', message) : held.push(message)));
      const view = await deps.tracking.readJson(orderId);
      if (!view) {
        await stop();
        throw notFound(`no active tracking for order ${orderId}`);
      }
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      send('snapshot', view.json);
      for (const message of held.splice(0)) send('update', message);
      live = true;
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
      // The response, not the request: a request's stream may close once it has been read, long before the client goes.
      res.on('close', () => {
        clearInterval(keepalive);
        void stop();
      });
    } catch (err) {
      next(err);
    }
  };
}
