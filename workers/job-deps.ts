import type { JobDeps } from '../jobs/job-definition.ts';
import { createHistoryWriter } from '../location/history-writer.ts';
import { createLiveLocation } from '../location/live-location.ts';
import { createOrderTracking } from '../location/order-tracking.ts';
import type { Providers } from '../notifications/providers/index.ts';
import { createNotificationServices } from '../notifications/services.ts';
import type { Platform } from '../runtime/platform.ts';
import { giftSendGuards } from '../gifts/link-guard.ts';
import { createGiftSender } from '../gifts/sender.ts';
import { createMatchBatches, OFFER_TIMEOUT_WINDOW_MS } from '../dispatch/match-batches.ts';

/**
 * Everything a job handler may use, built once per worker process from its connections.
 * `providers` replaces the configured notification providers (tests point them at stand-ins).
 */
export function createJobDeps(platform: Platform, overrides: { providers?: Providers } = {}): JobDeps & { close(): Promise<void> } {
  const notifications = createNotificationServices(platform.config, platform, overrides.providers, giftSendGuards(platform.db));
  const location = createLiveLocation(platform.redis, platform.config.queuePrefix);
  const dispatchBatches = createMatchBatches({ ...platform, location }, { timeoutWindowMs: OFFER_TIMEOUT_WINDOW_MS });
  return {
    config: platform.config,
    db: platform.db,
    redis: platform.redis,
    queues: platform.queues,
    notifications,
    location,
    history: createHistoryWriter(platform.db),
    tracking: createOrderTracking(platform.redis, platform.config.queuePrefix),
    gifts: { sender: createGiftSender({ db: platform.db, queues: platform.queues, config: platform.config, logger: platform.logger }, { providers: notifications.providers }) },
    dispatchBatches,
    close: async () => {
      await Promise.all([notifications.close(), dispatchBatches.close()]);
    },
  };
}
