import { DateTime, IANAZone } from 'luxon';

/**
 * When a gift is sent, from what the sender typed: a local date-time (`2026-12-25T09:00`) or a
 * date only (`2026-12-25`, meaning 00:00), read in an IANA zone (the recipient's).
 *
 * Daylight-saving rule (luxon underneath, chosen explicitly rather than left to a default):
 * - **Gap** (the wall time does not exist, e.g. 02:30 on the spring-forward day in New York):
 *   the gift goes out as far after the jump as the wall time was after the start of the gap,
 *   i.e. at 03:30 EDT. The clock skips, the gift does not.
 * - **Overlap** (the wall time happens twice, e.g. 01:30 on the fall-back day): the first
 *   occurrence (01:30 EDT, UTC−4). A person waiting for "01:30" gets it the first time the clock
 *   shows 01:30, never an hour late.
 */
export type SendTimeKind = 'exact' | 'gap' | 'overlap';

export interface ResolvedSendTime {
  /** The UTC instant the gift is sent. */
  at: Date;
  /** What was asked, normalised: `2026-12-25T00:00`. */
  local: string;
  timeZone: string;
  kind: SendTimeKind;
  /** True when only a date was given (sent at 00:00). */
  dateOnly: boolean;
}

export type SendTimeResult = { ok: true; value: ResolvedSendTime } | { ok: false; path: 'sendAt' | 'timeZone'; message: string };

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

const zoneValidity = new Map<string, boolean>();

export function isValidTimeZone(zone: string): boolean {
  // Asking Intl is the costliest step of a reservation (a profile at 200/s put it first among
  // luxon's); zone names are few, so each answer is kept. Bounded, as the input comes from clients.
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone);
    if (zoneValidity.size >= 1_000) zoneValidity.clear();
    zoneValidity.set(zone, valid);
  }
  return valid;
}

const resolved = new Map<string, SendTimeResult>();

/**
 * A wall time in a zone always resolves to the same instant (for one tz database), and
 * reservations crowd onto few of them — "date only" means 00:00, and a midnight's reservations
 * all name it — while luxon's zone arithmetic (Intl offsets, the DST candidates) is the costliest
 * step of a reservation. So each answer is kept, bounded as the input comes from clients; callers
 * get their own Date.
 */
export function resolveSendTime(sendAt: string, timeZone: string): SendTimeResult {
  const key = `${sendAt}\u0000${timeZone}`;
  let result = resolved.get(key);
  if (!result) {
    result = resolveUncached(sendAt, timeZone);
    if (resolved.size >= 10_000) resolved.clear();
    resolved.set(key, result);
  }
  return result.ok ? { ok: true, value: { ...result.value, at: new Date(result.value.at) } } : result;
}

function resolveUncached(sendAt: string, timeZone: string): SendTimeResult {
  if (!isValidTimeZone(timeZone)) return { ok: false, path: 'timeZone', message: 'an IANA time zone such as Asia/Seoul or America/Los_Angeles' };
  const m = LOCAL.exec(sendAt);
  if (!m) return { ok: false, path: 'sendAt', message: 'a local date-time YYYY-MM-DDTHH:mm or a date YYYY-MM-DD, without an offset (the zone goes in timeZone)' };
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1).map((part) => (part === undefined ? undefined : Number(part))) as number[];
  const wall = { year: year!, month: month!, day: day!, hour, minute, second };
  // luxon would roll 24:00 over to the next day; a sender who typed it meant something else.
  if (hour > 23 || minute > 59 || second > 59) return { ok: false, path: 'sendAt', message: 'the time must be between 00:00 and 23:59' };
  // Check the calendar in UTC, where every wall time exists: Feb 30 or 25:00 are typos, not gaps.
  const calendar = DateTime.fromObject(wall, { zone: 'utc' });
  if (!calendar.isValid) return { ok: false, path: 'sendAt', message: `not a calendar date-time: ${calendar.invalidExplanation ?? calendar.invalidReason}` };
  const local = calendar.toFormat("yyyy-LL-dd'T'HH:mm") + (second ? calendar.toFormat(':ss') : '');
  const dateOnly = m[4] === undefined;
  const zoned = DateTime.fromObject(wall, { zone: timeZone });
  const sameWall = (d: DateTime) => d.year === wall.year && d.month === wall.month && d.day === wall.day && d.hour === wall.hour && d.minute === wall.minute;
  if (!sameWall(zoned)) {
    // luxon already moved a non-existent wall time forward by the gap's length: that is our rule.
    return { ok: true, value: { at: zoned.toJSDate(), local, timeZone, kind: 'gap', dateOnly } };
  }
  const candidates = zoned.getPossibleOffsets().filter(sameWall);
  if (candidates.length > 1) {
    const first = candidates.reduce((a, b) => (a.toMillis() <= b.toMillis() ? a : b));
    return { ok: true, value: { at: first.toJSDate(), local, timeZone, kind: 'overlap', dateOnly } };
  }
  return { ok: true, value: { at: zoned.toJSDate(), local, timeZone, kind: 'exact', dateOnly } };
}

export type WindowVerdict = { ok: true } | { ok: false; message: string };

/**
 * Seed 004: at least 10 minutes and at most 1 year ahead. "1 year" is the calendar year in UTC
 * (2026-03-01 12:00 → 2027-03-01 12:00), so a leap day does not shift the bound by a day.
 */
export function checkSendWindow(at: Date, now: Date, minLeadMs: number): WindowVerdict {
  const earliest = now.getTime() + minLeadMs;
  const latest = DateTime.fromJSDate(now, { zone: 'utc' }).plus({ years: 1 }).toMillis();
  if (at.getTime() < earliest) {
    return { ok: false, message: `must be at least ${Math.round(minLeadMs / 60_000)} minutes ahead (earliest ${new Date(earliest).toISOString()}); it resolves to ${at.toISOString()}` };
  }
  if (at.getTime() > latest) return { ok: false, message: `must be at most 1 year ahead (latest ${new Date(latest).toISOString()}); it resolves to ${at.toISOString()}` };
  return { ok: true };
}

const described = new Map<string, string>();

/** `2026-12-25 00:00 (Asia/Seoul)`, for messages to people. Kept per instant and zone, as above. */
export function describeSendTime(at: Date, timeZone: string): string {
  const key = `${at.getTime()}\u0000${timeZone}`;
  let text = described.get(key);
  if (text === undefined) {
    text = `${DateTime.fromJSDate(at, { zone: timeZone }).toFormat('yyyy-LL-dd HH:mm')} (${timeZone})`;
    if (described.size >= 10_000) described.clear();
    described.set(key, text);
  }
  return text;
}
