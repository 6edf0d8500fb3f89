import { z } from 'zod';

const millis = 'a whole number of milliseconds, at least 100';
const ms = (fallback: number) => z.coerce.number({ error: millis }).int(millis).min(100, millis).default(fallback);

/** Environment variables of scheduled gifts (merged into the main schema). */
export const giftEnv = {
  /** Earliest a gift may be sent after it is reserved. Default 600000 (seed 004: 10분 후). */
  GIFT_MIN_LEAD_MS: ms(600_000),
  /** Changes stop this long before the send time. Default 3600000 (seed 004: 1시간 전까지). */
  GIFT_MODIFY_CUTOFF_MS: ms(3_600_000),
  /** How often the reconciler re-enqueues gifts whose delayed job is missing. Default 60000. */
  GIFT_RECONCILE_MS: ms(60_000),
  /** How often sends are settled from their delivery records (SENT or FAILED_REFUNDED). Default 5000. */
  GIFT_SETTLE_MS: ms(5_000),
  /** How often expiry and D-3/D-1 reminders run. Default 60000. */
  GIFT_HOUSEKEEPING_MS: ms(60_000),
  /** Local hour (in the recipient's zone) at which D-3 and D-1 reminders go out. Default 10. */
  GIFT_REMINDER_HOUR: z.coerce.number({ error: 'an hour from 0 to 23' }).int().min(0).max(23).default(10),
  /**
   * Whether the gift worker makes the first delivery attempt itself (retries go through the
   * channel queue). Set false when a provider quota must be enforced by the channel queue's rate
   * limiter for every message. Default true.
   */
  GIFT_DIRECT_SEND: z.enum(['true', 'false'], { error: 'true or false' }).default('true'),
  /** Gifts due at one instant from which sending is prepared ahead as a burst (batch jobs). Default 500. */
  GIFT_BURST_MIN: z.coerce.number({ error: 'a whole number' }).int().min(1).default(500),
  /** How far ahead bursts are prepared, in ms. Default 90000. */
  GIFT_BURST_HORIZON_MS: ms(90_000),
  /** Public base URL of recipient links (`<base>/g/<token>`). Default http://localhost:3000. */
  GIFT_LINK_BASE_URL: z.url({ protocol: /^https?$/, error: 'an http(s) URL such as https://gift.deligo.kr' }).default('http://localhost:3000'),
};

type GiftEnv = z.output<z.ZodObject<typeof giftEnv>>;

export interface GiftConfig {
  minLeadMs: number;
  modifyCutoffMs: number;
  reconcileMs: number;
  settleMs: number;
  housekeepingMs: number;
  reminderHour: number;
  linkBaseUrl: string;
  directSend: boolean;
  burstMin: number;
  burstHorizonMs: number;
}

export function toGiftConfig(e: GiftEnv): GiftConfig {
  return {
    minLeadMs: e.GIFT_MIN_LEAD_MS,
    modifyCutoffMs: e.GIFT_MODIFY_CUTOFF_MS,
    reconcileMs: e.GIFT_RECONCILE_MS,
    settleMs: e.GIFT_SETTLE_MS,
    housekeepingMs: e.GIFT_HOUSEKEEPING_MS,
    reminderHour: e.GIFT_REMINDER_HOUR,
    linkBaseUrl: e.GIFT_LINK_BASE_URL.replace(/\/+$/, ''),
    directSend: e.GIFT_DIRECT_SEND === 'true',
    burstMin: e.GIFT_BURST_MIN,
    burstHorizonMs: e.GIFT_BURST_HORIZON_MS,
  };
}
