import express, { type RequestHandler, type Router } from 'express';
import { requireRole } from '../../api/middleware/auth.ts';
import { mountRoutes, defineRoute } from '../../api/route.ts';
import { adminGate } from '../admin-gate.ts';
import { pageFile } from '../static-assets.ts';
import type { MapFeed } from './map-feed.ts';

/** Streams send a comment this often, so proxies keep idle connections open. */
const KEEPALIVE_MS = 15_000;
/** A viewer this far behind is cut off; its EventSource reconnects and starts from a snapshot. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * The ops live map: `/admin/map` (the page, behind the admin sign-in), `GET /v1/admin/map` (the
 * whole picture as JSON) and `GET /v1/admin/map/stream` (server-sent events: `snapshot`, then a
 * `frame` every second and an `alert` for each fraud alert as it is raised).
 */
export function opsMapRouter(deps: { feed: MapFeed; authenticate: RequestHandler }): Router {
  const router = express.Router();
  const html = pageFile('ops-map.html');
  const sendPage: RequestHandler = (_req, res) => {
    res.set('cache-control', 'no-store').type('html').send(html);
  };
  router.get('/admin/map', ...adminGate(deps.authenticate), sendPage);
  mountRoutes(
    router,
    [
      defineRoute({
        method: 'get',
        path: '/v1/admin/map',
        roles: ['admin'],
        async handler() {
          return { body: await deps.feed.snapshot() };
        },
      }),
    ],
    deps.authenticate,
  );
  router.get('/v1/admin/map/stream', deps.authenticate, requireRole('admin'), async (req, res, next) => {
    let stop: (() => void) | undefined;
    let closed = false;
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    res.on('close', () => {
      closed = true;
      clearInterval(keepalive);
      stop?.();
    });
    try {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.flushHeaders();
      const unwatch = await deps.feed.watch((event, data) => {
        if (res.writableLength > MAX_BUFFERED_BYTES) return void res.destroy();
        res.write(`event: ${event}\ndata: ${serialised(data)}\n\n`);
      });
      if (closed) unwatch();
      else stop = unwatch;
    } catch (err) {
      clearInterval(keepalive);
      if (res.headersSent) {
        req.log?.warn({ err }, 'ops map stream failed');
        res.end();
      } else next(err);
    }
  });
  return router;
}

// Frames and alerts go to every open map as the same object: each is serialised once, not once per viewer.
const texts = new WeakMap<object, string>();
function serialised(data: object): string {
  let text = texts.get(data);
  if (text === undefined) texts.set(data, (text = JSON.stringify(data)));
  return text;
}
