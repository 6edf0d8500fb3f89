import { z } from 'zod';
import type { Channel } from '../notifications/provider.ts';

const rate = 'a whole number of sends per second, at least 1';
const perSecond = z.coerce.number({ error: rate }).int(rate).min(1, rate);
const choice = (kinds: [string, ...string[]]) => z.enum(['auto', ...kinds], { error: `auto, ${kinds.join(' or ')}` }).default('auto');

/** Environment variables of the notification providers (merged into the main schema). */
export const notificationEnv = {
  /** `auto` picks FCM when credentials are present, else the development provider. */
  NOTIFY_PUSH_PROVIDER: choice(['dev', 'fcm']),
  NOTIFY_SMS_PROVIDER: choice(['dev', 'http']),
  NOTIFY_EMAIL_PROVIDER: choice(['dev', 'smtp']),
  NOTIFY_KAKAO_PROVIDER: choice(['dev', 'http']),
  /** Service-account JSON text for FCM (alternative to GOOGLE_APPLICATION_CREDENTIALS). */
  FCM_SERVICE_ACCOUNT_JSON: z.string().refine(isJsonObject, 'a service-account JSON object').optional(),
  /** Path of a service-account file, Google's standard variable. */
  GOOGLE_APPLICATION_CREDENTIALS: z.string().min(1).optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'a URL such as smtp://user:pass@mail.example.com:587' }).optional(),
  SMTP_FROM: z.string().min(3).default('deligo <no-reply@deligo.local>'),
  SMS_HTTP_URL: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).optional(),
  SMS_HTTP_AUTH: z.string().min(1).optional(),
  SMS_HTTP_TEMPLATE: z.string().refine(isJsonObjectTemplate, 'a JSON object template').optional(),
  KAKAO_HTTP_URL: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).optional(),
  KAKAO_HTTP_AUTH: z.string().min(1).optional(),
  KAKAO_HTTP_TEMPLATE: z.string().refine(isJsonObjectTemplate, 'a JSON object template').optional(),
  /**
   * Sends per second per channel, across every worker (BullMQ limiter). Push: FCM's default quota
   * is 600,000 messages a minute per project (10,000 a second), counted per device, and a send
   * reaches each of the user's devices, so 8,000 sends leave room for users with two. The old
   * 1,000 was below a single hot spot's own pushes (bench/dispatch: about 1,100 a second at
   * 강남역, every status change and offer), so the queue would have backed up at every peak.
   */
  NOTIFY_RATE_PUSH: perSecond.default(8_000),
  NOTIFY_RATE_SMS: perSecond.default(100),
  NOTIFY_RATE_EMAIL: perSecond.default(100),
  NOTIFY_RATE_KAKAO: perSecond.default(300),
  /** First retry delay; later ones double, with up to 50% jitter. Default 2000 ms. */
  NOTIFY_BACKOFF_MS: z.coerce.number({ error: 'a whole number of milliseconds' }).int().min(1).default(2_000),
};

type NotificationEnv = z.output<z.ZodObject<typeof notificationEnv>>;

export type ProviderChoice =
  | { kind: 'dev' }
  | { kind: 'fcm'; serviceAccountJson?: string; credentialsFile?: string }
  | { kind: 'smtp'; url: string; from: string }
  | { kind: 'http'; url: string; authHeader?: string; bodyTemplate?: string };

export interface NotificationConfig {
  providers: Record<Channel, ProviderChoice>;
  /** Sends per second per channel. */
  rates: Record<Channel, number>;
  backoffMs: number;
}

/** Resolves `auto` and checks that an explicitly chosen provider has what it needs. */
export function toNotificationConfig(e: NotificationEnv, fail: (message: string) => never): NotificationConfig {
  const fcm = e.FCM_SERVICE_ACCOUNT_JSON || e.GOOGLE_APPLICATION_CREDENTIALS;
  const push: ProviderChoice =
    e.NOTIFY_PUSH_PROVIDER === 'fcm' || (e.NOTIFY_PUSH_PROVIDER === 'auto' && fcm)
      ? fcm
        ? { kind: 'fcm', serviceAccountJson: e.FCM_SERVICE_ACCOUNT_JSON, credentialsFile: e.GOOGLE_APPLICATION_CREDENTIALS }
        : fail('missing FCM_SERVICE_ACCOUNT_JSON: NOTIFY_PUSH_PROVIDER=fcm needs it or GOOGLE_APPLICATION_CREDENTIALS')
      : { kind: 'dev' };
  const email: ProviderChoice =
    e.NOTIFY_EMAIL_PROVIDER === 'smtp' || (e.NOTIFY_EMAIL_PROVIDER === 'auto' && e.SMTP_URL)
      ? e.SMTP_URL
        ? { kind: 'smtp', url: e.SMTP_URL, from: e.SMTP_FROM }
        : fail('missing SMTP_URL: NOTIFY_EMAIL_PROVIDER=smtp needs it')
      : { kind: 'dev' };
  const http = (choice: string, name: 'SMS' | 'KAKAO', url?: string, authHeader?: string, bodyTemplate?: string): ProviderChoice =>
    choice === 'http' || (choice === 'auto' && url)
      ? url
        ? { kind: 'http', url, authHeader, bodyTemplate }
        : fail(`missing ${name}_HTTP_URL: NOTIFY_${name}_PROVIDER=http needs it`)
      : { kind: 'dev' };
  return {
    providers: {
      push,
      email,
      sms: http(e.NOTIFY_SMS_PROVIDER, 'SMS', e.SMS_HTTP_URL, e.SMS_HTTP_AUTH, e.SMS_HTTP_TEMPLATE),
      kakao: http(e.NOTIFY_KAKAO_PROVIDER, 'KAKAO', e.KAKAO_HTTP_URL, e.KAKAO_HTTP_AUTH, e.KAKAO_HTTP_TEMPLATE),
    },
    rates: { push: e.NOTIFY_RATE_PUSH, sms: e.NOTIFY_RATE_SMS, email: e.NOTIFY_RATE_EMAIL, kakao: e.NOTIFY_RATE_KAKAO },
    backoffMs: e.NOTIFY_BACKOFF_MS,
  };
}

function isJsonObject(text: string): boolean {
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** Placeholders sit inside JSON strings, so a template with them blanked out must parse. */
function isJsonObjectTemplate(text: string): boolean {
  return isJsonObject(text.replace(/\{\{[\w.]+\}\}/g, ''));
}
