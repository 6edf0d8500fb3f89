import type { Knex } from 'knex';
import { loadGifts } from '../db/gifts-repository.ts';
import type { SendGuard } from '../notifications/services.ts';
import { createBatcher } from '../runtime/batcher.ts';

/** Holds a live link: the only states in which a gift's link may still be handed out. */
const LIVE = new Set(['SENDING', 'SENT', 'OPENED']);

/**
 * Guards the messages that carry a gift's link (`gift.received`, `gift.expiring`). A message is
 * built when it is queued, but it may go out much later: a dead letter replayed from the CLI days
 * after the gift was refunded, cancelled or passed on to someone else. Right before sending, the
 * gift must still be held and the link in the message must still be its current one; otherwise
 * the message is withdrawn, so a refunded gift's link is never delivered and the giver of a
 * transferred gift never gets the new holder's link (nor an old one that looks alive).
 */
export function createGiftLinkGuard(db: Knex): SendGuard {
  // Many sends in flight in one worker share one read.
  const load = createBatcher((ids: string[]) => loadGifts(db, ids), { maxSize: 500, maxWaitMs: 2 });
  return async (row) => {
    const giftId = typeof row.data.giftId === 'string' ? row.data.giftId : undefined;
    const link = typeof row.data.link === 'string' ? row.data.link : '';
    if (!giftId) return 'the message names no gift';
    const gift = await load(giftId);
    if (!gift) return `gift ${giftId} no longer exists`;
    if (!LIVE.has(gift.status)) return `the gift is ${gift.status}`;
    if (!gift.link_token || !link.endsWith(`/g/${gift.link_token}`)) return 'the link in this message was replaced (the gift was passed on)';
    return undefined;
  };
}

export const GIFT_LINK_EVENTS = ['gift.received', 'gift.expiring'] as const;

/** The guards the gifts area registers with the notification workers. */
export function giftSendGuards(db: Knex): Record<string, SendGuard> {
  const guard = createGiftLinkGuard(db);
  return Object.fromEntries(GIFT_LINK_EVENTS.map((event) => [event, guard]));
}
