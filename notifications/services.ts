import type { Knex } from 'knex';
import type { DeliveryToSend } from '../db/notification-deliveries-repository.ts';
import type { Config } from '../runtime/config.ts';
import type { Logger } from '../runtime/logger.ts';
import { createDeliveryStore, type DeliveryStore } from './delivery-store.ts';
import { closeProviders, createProviders, type Providers } from './providers/index.ts';

/**
 * Asked right before a delivery of its event is sent: a reason means the message must not go out
 * any more (it is marked failed with that reason and never retried). Notifications stay unaware of
 * what their events mean; the area that owns an event registers its guard.
 */
export type SendGuard = (row: DeliveryToSend) => Promise<string | undefined>;

/** What a worker process needs to send notifications. */
export interface NotificationServices {
  providers: Providers;
  deliveries: DeliveryStore;
  /** By event name; events without a guard are always sent. */
  guards: Partial<Record<string, SendGuard>>;
  close(): Promise<void>;
}

/** `providers` replaces the configured ones (tests point them at stand-ins). */
export function createNotificationServices(config: Config, deps: { db: Knex; logger: Logger }, providers?: Providers, guards: Partial<Record<string, SendGuard>> = {}): NotificationServices {
  const chosen = providers ?? createProviders(config, deps);
  return { providers: chosen, deliveries: createDeliveryStore(deps.db), guards, close: () => closeProviders(chosen) };
}
