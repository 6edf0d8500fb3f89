import type { Knex } from 'knex';
import { deviceTokens, removeDeviceTokens } from '../../db/devices-repository.ts';
import type { ProviderChoice } from '../../runtime/config-notifications.ts';
import type { Config } from '../../runtime/config.ts';
import type { Logger } from '../../runtime/logger.ts';
import { CHANNELS, type Channel, type NotificationProvider } from '../provider.ts';
import { createDevProvider } from './dev.ts';
import { createFcmProvider } from './fcm.ts';
import { createHttpProvider } from './http.ts';
import { createSmtpProvider } from './smtp.ts';

export type Providers = Record<Channel, NotificationProvider>;

/** One provider per channel, as configured; the development provider where nothing is. */
export function createProviders(config: Config, deps: { db: Knex; logger: Logger }): Providers {
  const build = (channel: Channel, choice: ProviderChoice): NotificationProvider => {
    switch (choice.kind) {
      case 'dev':
        return createDevProvider(channel);
      case 'fcm':
        return createFcmProvider({
          credentials: choice.serviceAccountJson ? { serviceAccountJson: choice.serviceAccountJson } : { credentialsFile: choice.credentialsFile! },
          devices: { tokensFor: (userId) => deviceTokens(deps.db, userId), remove: async (tokens) => void (await removeDeviceTokens(deps.db, tokens)) },
          logger: deps.logger,
        });
      case 'smtp':
        return createSmtpProvider({ url: choice.url, from: choice.from });
      case 'http':
        return createHttpProvider({ channel: channel as 'sms' | 'kakao', url: choice.url, authHeader: choice.authHeader, bodyTemplate: choice.bodyTemplate });
    }
  };
  const providers = {} as Providers;
  for (const channel of CHANNELS) providers[channel] = build(channel, config.notifications.providers[channel]);
  return providers;
}

export async function closeProviders(providers: Providers): Promise<void> {
  await Promise.all(Object.values(providers).map((p) => p.close?.()));
}
