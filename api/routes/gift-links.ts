import { z } from 'zod';
import { findGiftByToken, giftEvents } from '../../db/gifts-repository.ts';
import { isLinkPreview } from '../../domain/gifts/link-preview.ts';
import { giftChannel, giftRecipient, timeZoneText } from '../../gifts/gift-input.ts';
import { holderPage, previewPage } from '../../gifts/holder-page.ts';
import { presentForHolder } from '../../gifts/present.ts';
import { openGift, redeemGift, transferGift, type LinkResult } from '../../gifts/recipient.ts';
import type { GiftDeps } from '../../gifts/reserve.ts';
import { badRequest, conflict, HttpError, notFound } from '../errors.ts';
import { defineRoute, type RouteResult } from '../route.ts';

/** 128-bit base64url tokens only; anything else is not worth a lookup. */
const link = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'a gift link token') });

/** Links are secrets: never cached, indexed or leaked through a Referer. */
const PRIVATE = { 'cache-control': 'no-store', 'x-robots-tag': 'noindex', 'referrer-policy': 'no-referrer' };

/**
 * The recipient's side, behind the unguessable link in the gift message: no account needed, the
 * link is the credential. `GET /g/:token` is a small HTML page, or JSON for apps
 * (`Accept: application/json`).
 */
export function giftLinkRoutes(deps: GiftDeps) {
  const answer = (result: LinkResult, wantsHtml = false): RouteResult => {
    switch (result.kind) {
      case 'not-found':
        throw notFound('no gift behind this link');
      case 'gone':
        throw new HttpError(410, 'Gone', result.message);
      case 'invalid':
        throw badRequest(`${result.path}: ${result.message}`, [{ path: result.path, message: result.message }]);
      case 'conflict':
        throw conflict(result.message, { currentStatus: result.gift.status });
      case 'ok': {
        const view = presentForHolder(result.gift);
        return wantsHtml ? { headers: PRIVATE, html: holderPage(view) } : { headers: PRIVATE, body: view };
      }
    }
  };
  const preview = (found: Awaited<ReturnType<typeof findGiftByToken>>): RouteResult => {
    // A retired link (the gift was passed on) previews like an unknown one: the card says nothing.
    if (!found || !found.current) throw notFound('no gift behind this link');
    return { headers: PRIVATE, html: previewPage(found.gift) };
  };
  return [
    defineRoute({
      method: 'get',
      path: '/g/:token',
      params: link,
      async handler({ params, headers, method }) {
        // A chat drawing a preview card, a prefetch or a HEAD probe: a preview, and the gift stays unopened.
        if (isLinkPreview({ method, headers })) return preview(await findGiftByToken(deps.db, params.token));
        const accept = String(headers.accept ?? '');
        const wantsHtml = !/application\/json/.test(accept) || /text\/html/.test(accept.split(',')[0] ?? '');
        return answer(await openGift(deps, params.token), wantsHtml);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/g/:token/redeem',
      params: link,
      body: z.object({ code: z.string().max(40).optional() }),
      async handler({ params, body }) {
        return answer(await redeemGift(deps, params.token, body));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/g/:token/transfer',
      params: link,
      body: z.object({ recipient: giftRecipient, channel: giftChannel, timeZone: timeZoneText.optional() }),
      async handler({ params, body }) {
        const result = await transferGift(deps, params.token, body);
        if (result.kind !== 'ok') return answer(result);
        // The new link goes only to the new holder; the giver learns that it worked, not the secret.
        const history = await giftEvents(deps.db, result.gift.id);
        return { headers: PRIVATE, body: { status: result.gift.status, transferredTo: result.gift.recipient_name, channel: result.gift.channel, at: history.at(-1)!.at.toISOString() } };
      },
    }),
  ];
}
