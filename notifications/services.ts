import type { Knex } from 'knex';
import type { Config } from '../runtime/config.ts';
import type { Logger } from '../runtime/logger.ts';
import { createDeliveryStore, type DeliveryStore } from './delivery-store.ts';
import { closeProviders, createProviders, type Providers } from './providers/index.ts';

/** What a worker process needs to send notifications. */
export interface NotificationServices {
  providers: Providers;
  deliveries: DeliveryStore;
  close(): Promise<void>;
}

/** `providers` replaces the configured ones (tests point them at stand-ins). */
export function createNotificationServices(config: Config, deps: { db: Knex; logger: Logger }, providers?: Providers): NotificationServices {
  const chosen = providers ?? createProviders(config, deps);
  return { providers: chosen, deliveries: createDeliveryStore(deps.db), close: () => closeProviders(chosen) };
}
