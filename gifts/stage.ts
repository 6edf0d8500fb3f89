import { DateTime } from 'luxon';
import type { Knex } from 'knex';
import { stageSends, type StagedSend } from '../db/gift-staged-sends-repository.ts';
import type { GiftRow } from '../db/gifts-repository.ts';
import { generateGiftCodes } from '../domain/gifts/gift-code.ts';
import { newLinkTokens } from '../domain/gifts/link-token.ts';
import { giftValidity } from '../domain/gifts/validity.ts';
import { render } from '../domain/notifications/templates.ts';
import { deliveryRows } from '../notifications/notify.ts';
import type { Config } from '../runtime/config.ts';
import { receivedNotice } from './deliver.ts';

/** Gifts staged per statement. */
const CHUNK = 1_000;

/** How long after its instant a staged send may still be used; later, the gift is sent the ordinary way. */
const USABLE_FOR_MS = 10 * 60_000;

/**
 * Prepares, minutes ahead, everything a burst's sends will write and say that does not depend on
 * the instant itself (gift_staged_sends, see its migration): each gift's code and link token (drawn
 * now, from the CSPRNG), its delivery id and validity for a send at `at`, and the recipient's
 * message rendered with its link. At the instant the send moves the gift SENT
 * from here in one statement and hands the rendered message to the provider (see
 * gifts/staged-delivery.ts): drawing, rendering, checking and hashing (a third of the worker's time
 * per gift at 00:00) are no longer on the critical path.
 *
 * A staged send is tied to the version of the gift it was built from: a change after it (a new
 * recipient or message, possible only until 1 hour before the send, or a new time) makes it unused,
 * and the gift is sent as before. Its validity holds only while the send stays on the same local
 * day in the recipient's zone and before any reminder moment it left in, and at most
 * {@link USABLE_FOR_MS} after the instant (`usable_until`). Stops when `deadline` passes: the rest
 * is sent the ordinary way.
 */
export async function stageBurst(deps: { db: Knex; config: Config }, giftIds: string[], at: number, deadline: number): Promise<number> {
  let staged = 0;
  for (let i = 0; i < giftIds.length && Date.now() < deadline; i += CHUNK) {
    const { rows } = await deps.db.raw<{ rows: GiftRow[] }>(`SELECT * FROM gifts WHERE id = ANY(?::text[]) AND status = 'SCHEDULED' AND send_at = ?`, [
      giftIds.slice(i, i + CHUNK),
      new Date(at),
    ] as unknown as Knex.RawBinding[]);
    staged += await stageSends(deps.db, stagedSends(deps.config, rows, at));
  }
  return staged;
}

/** The staged sends of `gifts` for a send at `at` (pure but for the random draw). */
export function stagedSends(config: Config, gifts: GiftRow[], at: number): StagedSend[] {
  const codes = generateGiftCodes(gifts.length);
  const tokens = newLinkTokens(gifts.length);
  const instant = new Date(at);
  // Luxon's zone arithmetic, once per zone and validity rather than once per gift.
  const untils = new Map<string, Date>();
  const until = (zone: string, days: number) => {
    const key = `${zone}|${days}`;
    let u = untils.get(key);
    if (!u) untils.set(key, (u = usableUntil(at, zone, days, config.gifts.reminderHour)));
    return u;
  };
  return gifts.map((row, i) => {
    const gift = { ...row, code: codes[i]!, link_token: tokens[i]! };
    const validity = giftValidity(instant, gift.validity_days, gift.time_zone, config.gifts.reminderHour);
    const delivery = deliveryRows(receivedNotice(config, gift, validity.validUntil))[0]!;
    return {
      gift_id: gift.id,
      version: gift.version,
      usable_until: until(gift.time_zone, gift.validity_days),
      code: gift.code,
      link_token: gift.link_token,
      delivery_id: delivery.id,
      expires_at: validity.expiresAt,
      remind_d3_at: validity.remindD3At,
      remind_d1_at: validity.remindD1At,
      send: { channel: delivery.channel, recipient: delivery.recipient, message: render('gift.received', delivery.data) },
      delivery: { idempotency_key: delivery.idempotency_key, recipient_key: delivery.recipient_key, data: delivery.data },
    };
  });
}

/**
 * The last moment a validity computed for a send at `at` is the one a later send would get: before
 * the next local midnight (the validity counts local days) and before any reminder moment still
 * ahead at `at` (a reminder already past when the gift is sent is left out).
 */
function usableUntil(at: number, timeZone: string, validityDays: number, reminderHour: number): Date {
  const midnight = DateTime.fromMillis(at, { zone: timeZone }).startOf('day').plus({ days: 1 }).toMillis();
  const plan = giftValidity(new Date(at), validityDays, timeZone, reminderHour);
  let until = Math.min(midnight, at + USABLE_FOR_MS);
  for (const r of [plan.remindD3At, plan.remindD1At]) if (r && r.getTime() > at) until = Math.min(until, r.getTime());
  return new Date(until);
}
