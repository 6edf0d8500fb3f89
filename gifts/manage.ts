import { getGift, moveGift, updateGift, type GiftChannel, type GiftRow } from '../db/gifts-repository.ts';
import { checkSendWindow, resolveSendTime } from '../domain/gifts/send-time.ts';
import { canCancel, canModify } from '../domain/gifts/status.ts';
import { notify } from '../notifications/notify.ts';
import type { Identity } from '../runtime/tokens.ts';
import { missingAddress, type GiftRecipientInput } from './gift-input.ts';
import { refundGift } from './payments.ts';
import { afterCommit, type GiftDeps } from './reserve.ts';
import { rescheduleSend, unscheduleSend } from './schedule.ts';

export type ManageResult =
  | { kind: 'ok'; gift: GiftRow }
  | { kind: 'not-found' }
  | { kind: 'forbidden' }
  | { kind: 'conflict'; message: string; status: GiftRow['status'] }
  | { kind: 'invalid'; path: string; message: string };

/** The sender, or an admin acting for them. */
export async function giftOfCaller(deps: Pick<GiftDeps, 'db'>, id: string, user: Identity): Promise<{ kind: 'ok'; gift: GiftRow } | { kind: 'not-found' } | { kind: 'forbidden' }> {
  const gift = await getGift(deps.db, id);
  if (!gift) return { kind: 'not-found' };
  if (gift.sender_id !== user.sub && user.role !== 'admin') return { kind: 'forbidden' };
  return { kind: 'ok', gift };
}

/**
 * Cancels a gift that has not started sending, with a full refund (seed 004: 취소 수수료 없음).
 * The status change and the refund are one transaction, and the change is conditional on
 * SCHEDULED: if the send claimed the gift first, the cancel changes nothing and says so.
 */
export async function cancelGift(deps: GiftDeps, id: string, user: Identity): Promise<ManageResult> {
  const found = await giftOfCaller(deps, id, user);
  if (found.kind !== 'ok') return found;
  const cancelled = await deps.db.transaction(async (trx) => {
    const row = await moveGift(trx, id, { from: ['SCHEDULED'], to: 'CANCELLED', actor: `${user.role}:${user.sub}`, reason: 'cancelled by the sender' });
    if (row) await refundGift(trx, row);
    return row;
  });
  if (!cancelled) {
    const now = (await getGift(deps.db, id))!;
    const verdict = canCancel(now);
    return { kind: 'conflict', message: verdict.ok ? 'the gift changed meanwhile; try again' : verdict.reason, status: now.status };
  }
  await afterCommit(deps, cancelled, 'unschedule', () => unscheduleSend(deps.queues, id));
  await afterCommit(deps, cancelled, 'tell sender', () =>
    notify(deps, {
      event: 'gift.cancelled',
      recipient: { userId: cancelled.sender_id },
      channels: ['push'],
      data: { giftId: id, productName: cancelled.product_name, recipientName: cancelled.recipient_name, refunded: cancelled.price },
      idempotencyKey: `gift:${id}:cancelled`,
    }),
  );
  return { kind: 'ok', gift: cancelled };
}

export interface GiftChange {
  recipient?: GiftRecipientInput;
  channel?: GiftChannel;
  message?: string;
  sendAt?: string;
  timeZone?: string;
}

/**
 * Changes recipient, channel, message or send time until the cutoff (1 hour) before the send
 * time on record; later changes are refused with the reason. A new time is checked against the
 * same window as a reservation and moves the delayed job. The update is conditional on the
 * version read, so two concurrent changes cannot silently overwrite each other.
 */
export async function changeGift(deps: GiftDeps, id: string, user: Identity, change: GiftChange, now = new Date()): Promise<ManageResult> {
  const found = await giftOfCaller(deps, id, user);
  if (found.kind !== 'ok') return found;
  const gift = found.gift;
  const verdict = canModify({ status: gift.status, sendAt: gift.send_at }, now, deps.config.gifts.modifyCutoffMs);
  if (!verdict.ok) return { kind: 'conflict', message: verdict.reason, status: gift.status };

  const set: Partial<GiftRow> = {};
  const channel = change.channel ?? gift.channel;
  const recipient = change.recipient ?? {
    name: gift.recipient_name,
    phone: gift.recipient_phone ?? undefined,
    kakaoId: gift.recipient_kakao_id ?? undefined,
    email: gift.recipient_email ?? undefined,
  };
  const missing = missingAddress(channel, recipient);
  if (missing) return { kind: 'invalid', ...missing };
  if (change.recipient) {
    Object.assign(set, {
      recipient_name: recipient.name,
      recipient_phone: recipient.phone ?? null,
      recipient_kakao_id: recipient.kakaoId ?? null,
      recipient_email: recipient.email ?? null,
    });
  }
  if (change.channel) set.channel = change.channel;
  if (change.message !== undefined) set.message = change.message;
  if (change.sendAt !== undefined || change.timeZone !== undefined) {
    const zone = change.timeZone ?? gift.time_zone;
    const local = change.sendAt ?? gift.send_local;
    const time = resolveSendTime(local, zone);
    if (!time.ok) return { kind: 'invalid', path: time.path, message: time.message };
    const window = checkSendWindow(time.value.at, now, deps.config.gifts.minLeadMs);
    if (!window.ok) return { kind: 'invalid', path: 'sendAt', message: window.message };
    Object.assign(set, { send_at: time.value.at, send_local: time.value.local, time_zone: time.value.timeZone });
  }
  const changed = Object.keys(set);
  if (changed.length === 0) return { kind: 'ok', gift };
  const updated = await deps.db.transaction((trx) =>
    updateGift(trx, id, { status: ['SCHEDULED'], version: gift.version, set, actor: `${user.role}:${user.sub}`, reason: `changed ${changed.join(', ')}` }),
  );
  if (!updated) {
    const current = (await getGift(deps.db, id))!;
    return { kind: 'conflict', message: `the gift changed meanwhile (now ${current.status}, version ${current.version}); read it again and retry`, status: current.status };
  }
  if (set.send_at) await afterCommit(deps, updated, 'reschedule', () => rescheduleSend(deps.queues, updated));
  return { kind: 'ok', gift: updated };
}
