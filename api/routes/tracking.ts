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
      // Subscribe first (the hub resolves once Redis has acknowledged it), then read and send the
      // snapshot, holding updates back until it is sent: anything published after the client's
      // first event reaches it, and nothing published in between falls through the gap.
      const held: string[] = [];
      let live = false;
      let closed = false;
      const send = (event: string, data: string) => res.write(`event: ${event}\ndata: ${data}\n\n`);
      // Listened for now, not once streaming: a client gone while we subscribe must not leave a
      // subscription behind.
      let stop: (() => Promise<void>) | undefined;
      let keepalive: NodeJS.Timeout | undefined;
      res.on('close', () => {
        closed = true;
        clearInterval(keepalive);
        void stop?.();
      });
      stop = await deps.hub.listen(deps.tracking.channel(orderId), (message) => (live ? send('update', message) : held.push(message)));
      if (closed) return void (await stop());
      const view = await deps.tracking.readJson(orderId);
      if (!view) {
        await stop();
        throw notFound(`no active tracking for order ${orderId}`);
      }
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      send('snapshot', view.json);
      for (const message of newerThan(view.json, held.splice(0))) send('update', message);
      live = true;
      // The response, not the request: a request's stream may close once it has been read, long before the client goes.
      if (!closed) keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    } catch (err) {
      next(err);
    }
  };
}

/**
 * Updates published while the snapshot was read, less those it already shows: a status change at
 * or below its version, a position not newer than its rider's. The rest (and anything that does
 * not parse) is sent, in order, so the client sees every change exactly once after the snapshot.
 */
function newerThan(snapshot: string, held: string[]): string[] {
  if (held.length === 0) return held;
  const view = JSON.parse(snapshot) as { version?: number; rider?: { recordedAt?: string } | null };
  return held.filter((message) => {
    try {
      const update = JSON.parse(message) as { type?: string; version?: number; rider?: { recordedAt?: string } };
      if (update.type === 'status' && typeof update.version === 'number' && typeof view.version === 'number') return update.version > view.version;
      if (update.type === 'position' && update.rider?.recordedAt && view.rider?.recordedAt) return Date.parse(update.rider.recordedAt) > Date.parse(view.rider.recordedAt);
      return true;
    } catch {
      return true;
    }
  });
}
