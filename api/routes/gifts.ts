import { z } from 'zod';
import { listGiftProducts } from '../../db/gift-products-repository.ts';
import { giftEvents, listGifts } from '../../db/gifts-repository.ts';
import { GIFT_STATUSES } from '../../domain/gifts/status.ts';
import { ROLES } from '../../domain/roles.ts';
import { giftChannel, giftMessage, giftRecipient, sendAtText, timeZoneText } from '../../gifts/gift-input.ts';
import { cancelGift, changeGift, giftOfCaller, type ManageResult } from '../../gifts/manage.ts';
import { presentGift } from '../../gifts/present.ts';
import { reserveGift, type GiftDeps } from '../../gifts/reserve.ts';
import { badRequest, conflict, forbidden, HttpError, notFound } from '../errors.ts';
import { defineRoute } from '../route.ts';

const giftId = z.object({ id: z.uuid('a gift id') });

const giftBody = z.object({
  productId: z.string().min(1).max(64),
  recipient: giftRecipient,
  channel: giftChannel,
  message: giftMessage.default(''),
  sendAt: sendAtText,
  timeZone: timeZoneText.default('Asia/Seoul'),
  senderName: z.string().trim().min(1).max(50).optional(),
});

/** Gift products and the sender's side of gifts: reserve, list, read, change, cancel. */
export function giftRoutes(deps: GiftDeps) {
  const cutoff = { modifyCutoffMs: deps.config.gifts.modifyCutoffMs };
  const answer = async (result: ManageResult, status = 200) => {
    switch (result.kind) {
      case 'not-found':
        throw notFound('no such gift');
      case 'forbidden':
        throw forbidden('this gift is not yours');
      case 'invalid':
        throw badRequest(`${result.path}: ${result.message}`, [{ path: result.path, message: result.message }]);
      case 'conflict':
        throw conflict(result.message, { currentStatus: result.status });
      case 'ok':
        return { status, body: presentGift(result.gift, { ...cutoff, events: await giftEvents(deps.db, result.gift.id) }) };
    }
  };
  return [
    defineRoute({
      method: 'get',
      path: '/v1/gift-products',
      roles: ROLES,
      query: z.object({ category: z.string().max(32).optional() }),
      async handler({ query }) {
        return { body: { products: await listGiftProducts(deps.db, query) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/gifts',
      // Reservations peak before midnight and on Valentine's Day (seed 004): a well-formed one from a
      // known sender skips Express (api/fast-lane.ts); anything zod rejects is still answered there.
      hot: true,
      roles: ['customer', 'admin'],
      body: giftBody,
      quickBody: (raw) => {
        const parsed = giftBody.safeParse(raw);
        return parsed.success ? parsed.data : undefined;
      },
      async handler({ user, body, headers }) {
        const key = headers['idempotency-key'];
        if (key !== undefined && (typeof key !== 'string' || !/^[\w.:-]{1,128}$/.test(key))) {
          throw badRequest('Idempotency-Key: 1–128 letters, digits, "_", "-", "." or ":"', [{ path: 'headers.idempotency-key', message: 'invalid format' }]);
        }
        const result = await reserveGift(deps, { senderId: user.sub, ...body, idempotencyKey: key });
        if (result.kind === 'key-reused') {
          const message = 'this Idempotency-Key was already used for a different gift reservation; use a new key for a new gift';
          throw new HttpError(422, 'Unprocessable Content', message, { giftId: result.giftId, errors: [{ path: 'headers.idempotency-key', message }] });
        }
        // A retry of a reservation already made: the same gift, paid once, with its history so far.
        if (result.kind === 'replayed') return { status: 200, headers: { location: `/v1/gifts/${result.gift.id}` }, body: presentGift(result.gift, { ...cutoff, events: await giftEvents(deps.db, result.gift.id) }) };
        if (result.kind === 'invalid') throw badRequest(`${result.path}: ${result.message}`, [{ path: result.path, message: result.message }]);
        if (result.kind === 'insufficient') {
          const message = `not enough credits: ${result.required.toLocaleString('ko-KR')}원 needed, ${result.available.toLocaleString('ko-KR')}원 available`;
          throw new HttpError(409, 'Conflict', message, { available: result.available, required: result.required, errors: [{ path: 'productId', message }] });
        }
        // A new gift's history is its one SCHEDULED step: no need to read it back.
        const history = [{ id: '0', gift_id: result.gift.id, to_status: 'SCHEDULED' as const, actor: `user:${user.sub}`, reason: 'reserved', at: result.gift.created_at }];
        return { status: 201, headers: { location: `/v1/gifts/${result.gift.id}` }, body: { ...presentGift(result.gift, { ...cutoff, events: history }), sendTimeRule: result.sendTimeKind } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/gifts',
      roles: ROLES,
      query: z.object({
        status: z.enum(GIFT_STATUSES, { error: `one of ${GIFT_STATUSES.join(', ')}` }).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        before: z.iso.datetime({ offset: true, error: 'an ISO 8601 timestamp' }).optional(),
      }),
      async handler({ user, query }) {
        const gifts = await listGifts(deps.db, { senderId: user.sub, status: query.status, limit: query.limit, before: query.before ? new Date(query.before) : undefined });
        return { body: { gifts: gifts.map((g) => presentGift(g, cutoff)) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/gifts/:id',
      roles: ROLES,
      params: giftId,
      async handler({ user, params }) {
        return answer(await giftOfCaller(deps, params.id, user));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/gifts/:id',
      roles: ['customer', 'admin'],
      params: giftId,
      body: z
        .object({ recipient: giftRecipient.optional(), channel: giftChannel.optional(), message: giftMessage.optional(), sendAt: sendAtText.optional(), timeZone: timeZoneText.optional() })
        .strict()
        .refine((b) => Object.keys(b).length > 0, { message: 'give at least one of recipient, channel, message, sendAt, timeZone' }),
      async handler({ user, params, body }) {
        return answer(await changeGift(deps, params.id, user, body));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/gifts/:id/cancel',
      roles: ['customer', 'admin'],
      params: giftId,
      async handler({ user, params }) {
        return answer(await cancelGift(deps, params.id, user));
      },
    }),
  ];
}
