import express, { type RequestHandler, type Router } from 'express';
import type { AppDeps } from '../api/app.ts';
import { createChannelHub, type ChannelHub } from '../runtime/channel-hub.ts';
import { createMapFeed } from './map/map-feed.ts';
import { opsMapRouter } from './map/map-router.ts';
import { staticAssets } from './static-assets.ts';
import { trackingPageRouter } from './tracking-page.ts';

/**
 * The pages people look at: their scripts and styles, the customer's tracking page and the ops
 * live map with its data endpoints. Nothing is opened until a map is watched.
 */
export function pagesRouter(deps: AppDeps, authenticate: RequestHandler): Router {
  const { config } = deps;
  let hub: ChannelHub | undefined;
  const feed = createMapFeed({ ...deps, prefix: config.queuePrefix, tileUrl: config.map.tileUrl, hub: () => (hub ??= createChannelHub(deps.subscriber())) });
  const router = express.Router();
  router.use(staticAssets());
  router.use(trackingPageRouter({ secret: config.jwt.secret }));
  router.use(opsMapRouter({ feed, authenticate }));
  return router;
}
