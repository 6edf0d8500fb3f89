import express, { type Express, type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { adminGate } from '../dashboards/admin-gate.ts';
import { BULL_BOARD_PATH, bullBoardRouter } from '../dashboards/bull-board.ts';
import { loginRouter } from '../dashboards/login.ts';
import type { Config } from '../runtime/config.ts';
import type { Logger } from '../runtime/logger.ts';
import type { QueueSet } from '../runtime/queues.ts';
import { attachFastLane, byteSize, createFastLane, rethrow } from './fast-lane.ts';
import { createMetrics } from './metrics.ts';
import { authenticate } from './middleware/auth.ts';
import { notFoundHandler, problemHandler } from './middleware/problem.ts';
import { requestLogging } from './middleware/request-logging.ts';
import { mountRoutes } from './route.ts';
import { adminNotificationRoutes } from './routes/admin-notifications.ts';
import { deviceRoutes } from './routes/devices.ts';
import { healthRoutes } from './routes/health.ts';
import { riderHistoryRoutes } from './routes/rider-history.ts';
import { riderRoutes } from './routes/riders.ts';
import { riderPreferenceRoutes } from './routes/rider-preferences.ts';
import { dispatchHistoryRoutes } from './routes/dispatch-history.ts';
import { deliveryRoutes } from './routes/deliveries.ts';
import { offerRoutes } from './routes/offers.ts';
import { passOnPendingOffers } from '../dispatch/accept.ts';
import { trackingRoutes, trackingStream } from './routes/tracking.ts';
import { createOrderTracking } from '../location/order-tracking.ts';
import { createChannelHub } from '../runtime/channel-hub.ts';
import { orderRoutes } from './routes/orders.ts';
import { restaurantRoutes } from './routes/restaurants.ts';
import { createOrderPlacer } from '../orders/place-order.ts';
import { cachedCatalogue } from '../orders/catalogue-cache.ts';
import { relayKicker } from '../orders/relay-kicker.ts';
import { dispatchStarter } from '../dispatch/start-dispatch.ts';
import { createLocationIngest } from '../location/ingest.ts';
import { createLiveLocation } from '../location/live-location.ts';
import { meRoutes } from './routes/me.ts';
import { creditRoutes } from './routes/credits.ts';
import { groupOrderRoutes } from './routes/group-orders.ts';
import { createOpenGroupIndex } from '../group-orders/open-index.ts';
import { guidanceRoutes } from './routes/guidance.ts';
import { createRoutePlanner } from '../orders/route-planner.ts';
import { createUserDirectory } from './user-directory.ts';
import { giftRoutes } from './routes/gifts.ts';
import { giftLinkRoutes } from './routes/gift-links.ts';
import { pagesRouter } from '../dashboards/pages-router.ts';

/** How long the API trusts its in-process copy of a restaurant and its menu when placing orders. */
const CATALOGUE_CACHE_MS = 2_000;

export interface AppDeps {
  config: Config;
  logger: Logger;
  redis: Redis;
  db: Knex;
  queues: QueueSet;
  /** A subscriber-mode Redis connection for streams, opened on first use. */
  subscriber(): Redis;
}

/** Builds the HTTP app. It does not listen: `api/main.ts` and the tests decide where. */
export function createApp(deps: AppDeps): Express {
  const { config } = deps;
  const app = express();
  app.disable('x-powered-by');
  const metrics = createMetrics(deps.queues);
  const users = createUserDirectory(deps.db);
  // One authenticator (and one cache of verified tokens) for the API and the admin pages.
  const authn = authenticate({ secret: config.jwt.secret, users });

  app.use(requestLogging(app, deps.logger, { observe: metrics.observe }));
  // Routes marked `hot` (a rider's every fix, a customer's tracking polls) are matched here,
  // ahead of the admin pages and every other route; they are added below with the rest.
  const hot = express.Router();
  app.use(hot);
  app.use(express.json({ limit: config.http.bodyLimit }));

  app.get('/metrics', metrics.handler);
  app.use(loginRouter({ secret: config.jwt.secret }));
  app.use(BULL_BOARD_PATH, ...adminGate(authn), bullBoardRouter(deps.queues));
  // The ops live map and the customer's tracking page.
  app.use(pagesRouter(deps, authn));

  const api = express.Router();
  const location = { ingest: createLocationIngest(deps.queues), live: createLiveLocation(deps.redis, config.queuePrefix) };
  const tracking = createOrderTracking(deps.redis, config.queuePrefix);
  // The subscriber connection opens with the first stream, not at start-up.
  let stream: RequestHandler | undefined;
  api.get('/v1/orders/:id/tracking/stream', authn, (req, res, next) => (stream ??= trackingStream({ tracking, hub: createChannelHub(deps.subscriber()) }))(req, res, next));
  const orders = { db: deps.db, placeOrder: createOrderPlacer(deps.db, cachedCatalogue(deps.db, { ttlMs: CATALOGUE_CACHE_MS }), { onBatch: (b) => metrics.observeGroupCommit('orders', b) }), kickRelay: relayKicker(deps.queues, deps.logger), startDispatch: dispatchStarter(deps.queues, deps.logger) };
  const dispatchDeps = { db: deps.db, redis: deps.redis, queues: deps.queues, config, location: location.live, tracking };
  const routes = [
    ...healthRoutes(deps),
    ...meRoutes(),
    ...deviceRoutes(deps),
    ...adminNotificationRoutes(deps),
    ...riderRoutes({ ...location, passOnPendingOffers: (riderId) => passOnPendingOffers(dispatchDeps, riderId) }),
    ...riderPreferenceRoutes({ db: deps.db, redis: deps.redis, prefix: config.queuePrefix }),
    ...riderHistoryRoutes(deps),
    ...restaurantRoutes(deps),
    ...orderRoutes(orders),
    ...offerRoutes(dispatchDeps),
    ...dispatchHistoryRoutes(deps),
    ...trackingRoutes({ tracking }),
    ...deliveryRoutes(deps),
    ...creditRoutes(deps),
    ...giftRoutes(deps),
    ...giftLinkRoutes(deps),
    ...groupOrderRoutes({ ...deps, index: createOpenGroupIndex(deps.redis, config.queuePrefix), kickRelay: orders.kickRelay }),
    ...guidanceRoutes({ db: deps.db, location: location.live, planner: createRoutePlanner({ osrmUrl: config.routing.osrmUrl, timeoutMs: config.routing.timeoutMs, logger: deps.logger }) }),
  ];
  // A body the fast lane read but could not take comes here with its parse error, if any.
  hot.use(rethrow);
  mountRoutes(hot, routes.filter((r) => r.hot), authn, { bodyLimit: config.http.bodyLimit });
  // Ahead of Express altogether: the common rider fix (see api/fast-lane.ts); `listen` installs it.
  attachFastLane(
    app,
    createFastLane(
      routes.filter((r) => r.hot),
      { identify: authn.identify, maxBodyBytes: byteSize(config.http.bodyLimit), observe: metrics.observeRoute, logger: deps.logger },
    ),
  );
  mountRoutes(api, routes.filter((r) => !r.hot), authn);
  app.use(api);

  app.use(notFoundHandler);
  app.use(problemHandler);
  return app;
}
