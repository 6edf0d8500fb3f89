/**
 * A gift's life. SCHEDULED → SENDING → SENT → OPENED → USED is the happy path; the others end it:
 * CANCELLED (by the sender, before sending), FAILED_REFUNDED (every delivery attempt failed),
 * EXPIRED_REFUNDED (never used within its validity). Every move is a conditional update on the
 * current status, so two racing movers cannot both win.
 */
export const GIFT_STATUSES = ['SCHEDULED', 'SENDING', 'SENT', 'OPENED', 'USED', 'CANCELLED', 'FAILED_REFUNDED', 'EXPIRED_REFUNDED'] as const;

export type GiftStatus = (typeof GIFT_STATUSES)[number];

export const GIFT_TRANSITIONS: Readonly<Record<GiftStatus, readonly GiftStatus[]>> = {
  SCHEDULED: ['SENDING', 'CANCELLED'],
  SENDING: ['SENT', 'FAILED_REFUNDED'],
  SENT: ['OPENED', 'USED', 'EXPIRED_REFUNDED'],
  OPENED: ['USED', 'EXPIRED_REFUNDED'],
  USED: [],
  CANCELLED: [],
  FAILED_REFUNDED: [],
  EXPIRED_REFUNDED: [],
};

export function canMove(from: GiftStatus, to: GiftStatus): boolean {
  return GIFT_TRANSITIONS[from].includes(to);
}

/** In the recipient's hands and still usable (if not expired). */
export const HELD_BY_RECIPIENT: readonly GiftStatus[] = ['SENT', 'OPENED'];

export type ChangeVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Whether the sender may still change recipient, message or time (seed 004: 발송 1시간 전까지).
 * The cutoff is measured against the send time currently on record, not the requested one.
 */
export function canModify(gift: { status: GiftStatus; sendAt: Date }, now: Date, cutoffMs: number): ChangeVerdict {
  if (gift.status !== 'SCHEDULED') return { ok: false, reason: `the gift is ${gift.status}; only a SCHEDULED gift can be changed` };
  const left = gift.sendAt.getTime() - now.getTime();
  if (left < cutoffMs) {
    const minutes = Math.round(cutoffMs / 60_000);
    return { ok: false, reason: `changes close ${minutes} minutes before sending; this gift is sent at ${gift.sendAt.toISOString()}, ${Math.max(0, Math.floor(left / 60_000))} minutes from now` };
  }
  return { ok: true };
}

/** Cancelling is free at any time before sending starts (seed 004: 발송 전까지 취소 가능). */
export function canCancel(gift: { status: GiftStatus }): ChangeVerdict {
  if (gift.status === 'SCHEDULED') return { ok: true };
  return { ok: false, reason: gift.status === 'CANCELLED' ? 'the gift is already cancelled' : `the gift is ${gift.status}: sending has started, so it can no longer be cancelled` };
}
