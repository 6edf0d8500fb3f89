import { DateTime } from 'luxon';

/**
 * How long a sent gift stays usable, and when its holder is reminded, all in the recipient's
 * zone: a gift sent on 12-25 with 30 days' validity is usable through 01-24 23:59:59 local
 * ("30일 내 사용"), expires at 01-25 00:00 local, and its D-3 and D-1 reminders go out at the
 * reminder hour on 01-21 and 01-23. A reminder whose moment has already passed when the gift is
 * sent (a product valid for 2 days has no D-3) is left out.
 */
export interface GiftValidity {
  /** The first instant the gift is no longer usable. */
  expiresAt: Date;
  /** The last local date it can be used: `2027-01-24`. */
  validUntil: string;
  remindD3At: Date | null;
  remindD1At: Date | null;
}

export function giftValidity(sentAt: Date, validityDays: number, timeZone: string, reminderHour: number): GiftValidity {
  // A midnight burst computes this for every gift, and luxon's zone arithmetic is not cheap: gifts
  // sent in the same minute, zone and validity share the calendar part (only the "already past"
  // check below depends on the exact instant).
  const key = `${timeZone}|${validityDays}|${reminderHour}|${Math.floor(sentAt.getTime() / 60_000)}`;
  let plan = plans.get(key);
  if (!plan) {
    if (plans.size > 1_000) plans.clear();
    plans.set(key, (plan = calendar(new Date(Math.floor(sentAt.getTime() / 60_000) * 60_000), validityDays, timeZone, reminderHour)));
  }
  const future = (at: Date | null) => (at && at.getTime() > sentAt.getTime() ? at : null);
  return { expiresAt: plan.expiresAt, validUntil: plan.validUntil, remindD3At: future(plan.remindD3At), remindD1At: future(plan.remindD1At) };
}

const plans = new Map<string, GiftValidity>();

function calendar(sentAt: Date, validityDays: number, timeZone: string, reminderHour: number): GiftValidity {
  const lastDay = DateTime.fromJSDate(sentAt, { zone: timeZone }).startOf('day').plus({ days: validityDays });
  const expiresAt = lastDay.plus({ days: 1 }).startOf('day');
  const reminder = (daysBefore: number) => {
    const at = lastDay.minus({ days: daysBefore }).set({ hour: reminderHour });
    return at.toJSDate();
  };
  return { expiresAt: expiresAt.toJSDate(), validUntil: lastDay.toISODate()!, remindD3At: reminder(3), remindD1At: reminder(1) };
}

/** `2027-01-24`: the last local day of a gift that expires at `expiresAt`. */
export function lastValidDay(expiresAt: Date, timeZone: string): string {
  return DateTime.fromJSDate(expiresAt, { zone: timeZone }).minus({ milliseconds: 1 }).toISODate()!;
}
