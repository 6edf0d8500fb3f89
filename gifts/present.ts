import type { GiftEventRow, GiftRow } from '../db/gifts-repository.ts';
import { lastValidDay } from '../domain/gifts/validity.ts';
import { shownCode } from './deliver.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The sender's view. The code is the holder's, so the sender never sees it. */
export function presentGift(gift: GiftRow, options: { modifyCutoffMs: number; events?: GiftEventRow[] }) {
  return {
    id: gift.id,
    status: gift.status,
    version: gift.version,
    product: { id: gift.product_id, name: gift.product_name, price: gift.price, validityDays: gift.validity_days },
    recipient: { name: gift.recipient_name, phone: gift.recipient_phone, kakaoId: gift.recipient_kakao_id, email: gift.recipient_email },
    channel: gift.channel,
    message: gift.message,
    sendAt: { at: gift.send_at.toISOString(), local: gift.send_local, timeZone: gift.time_zone },
    changeableUntil: gift.status === 'SCHEDULED' ? new Date(gift.send_at.getTime() - options.modifyCutoffMs).toISOString() : null,
    sentAt: iso(gift.sent_at),
    openedAt: iso(gift.opened_at),
    usedAt: iso(gift.used_at),
    expiresAt: iso(gift.expires_at),
    validUntil: gift.expires_at ? lastValidDay(gift.expires_at, gift.time_zone) : null,
    transferred: gift.transfer_count > 0,
    createdAt: gift.created_at.toISOString(),
    ...(options.events ? { history: presentHistory(withSendSteps(gift, options.events)) } : {}),
  };
}

/**
 * The history with the send's steps. A gift sent at its first attempt is SENT on record at once,
 * and its SENDING and SENT steps are written with its record a little later (at 00:00, after the
 * minute's other sends; see gifts/recorder.ts): meanwhile they are shown from the gift row, at
 * the times the record will give them.
 */
export function withSendSteps(gift: GiftRow, events: GiftEventRow[]): GiftEventRow[] {
  if (!gift.claimed_at || !gift.sent_at || events.some((e) => e.to_status === 'SENDING')) return events;
  const step = (to_status: GiftEventRow['to_status'], actor: string, reason: string, at: Date): GiftEventRow => ({ id: '', gift_id: gift.id, to_status, actor, reason, at });
  // A stable sort: steps at the same moment keep their order.
  return [...events, step('SENDING', 'system:sender', 'due', gift.claimed_at), step('SENT', 'system:delivery', 'delivered', gift.sent_at)].sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** Each step with the status before it (the previous step's), who made it and why. */
export function presentHistory(events: GiftEventRow[]) {
  return events.map((e, i) => ({ from: i === 0 ? null : events[i - 1]!.to_status, to: e.to_status, by: e.actor, reason: e.reason, at: e.at.toISOString() }));
}

/** The holder's view, behind the link: what the gift is, from whom, its code and what can be done. */
export function presentForHolder(gift: GiftRow, now = new Date()) {
  const live = ['SENDING', 'SENT', 'OPENED'].includes(gift.status) && (!gift.expires_at || gift.expires_at.getTime() > now.getTime());
  return {
    status: gift.status,
    product: { name: gift.product_name, price: gift.price },
    from: gift.sender_name,
    to: gift.recipient_name,
    message: gift.message,
    code: gift.status === 'USED' || live ? shownCode(gift) : null,
    validUntil: gift.expires_at ? lastValidDay(gift.expires_at, gift.time_zone) : null,
    expiresAt: iso(gift.expires_at),
    usedAt: iso(gift.used_at),
    canRedeem: live,
    canTransfer: live && gift.transfer_count === 0,
  };
}
