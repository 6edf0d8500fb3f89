import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { balance, ensureAccount, history, topUp } from '../../credits/ledger.ts';
import { ROLES } from '../../domain/roles.ts';
import type { Config } from '../../runtime/config.ts';
import { badRequest } from '../errors.ts';
import { defineRoute } from '../route.ts';

/** Largest single top-up an admin can make, in won: a typo should not mint millions. */
const MAX_TOP_UP = 10_000_000;

/** Credits: a user's own balance and history, and admin top-ups. */
export function creditRoutes(deps: { db: Knex; config: Config }) {
  const options = { welcome: deps.config.credits.welcome };
  return [
    defineRoute({
      method: 'get',
      path: '/v1/me/credits',
      roles: ROLES,
      query: z.object({
        limit: z.coerce.number().int().min(1).max(200).default(50),
        before: z.coerce.number().int().min(1).optional(),
      }),
      async handler({ user, query }) {
        // Reading is a first touch too: the welcome grant shows up on the first look.
        await deps.db.transaction((trx) => ensureAccount(trx, user.sub, options));
        const [current, entries] = await Promise.all([balance(deps.db, user.sub), history(deps.db, user.sub, query)]);
        const last = entries.at(-1);
        return {
          body: {
            ...current,
            history: entries.map((e) => ({ id: e.id, kind: e.kind, amount: e.amount, ref: e.ref, memo: e.memo, createdAt: e.createdAt.toISOString() })),
            next: entries.length === query.limit && last ? { before: last.id } : null,
          },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/admin/credits/top-up',
      roles: ['admin'],
      body: z.object({
        userId: z.string().min(1).max(128),
        amount: z.number().int('a whole number of won').min(1, 'more than 0 won').max(MAX_TOP_UP, `at most ${MAX_TOP_UP.toLocaleString('ko-KR')} won`),
        memo: z.string().trim().min(1).max(200).optional(),
      }),
      async handler({ user, body, headers }) {
        // An Idempotency-Key makes a retried top-up count once; without one every call is new.
        const key = headers['idempotency-key'];
        if (key !== undefined && (typeof key !== 'string' || !/^[\w.:-]{1,128}$/.test(key))) {
          throw badRequest('Idempotency-Key: 1–128 letters, digits, "_", "-", "." or ":"', [{ path: 'headers.idempotency-key', message: 'invalid format' }]);
        }
        const ref = { type: 'admin_top_up', id: key ?? randomUUID() };
        const next = await deps.db.transaction((trx) => topUp(trx, { userId: body.userId, amount: body.amount, ref, memo: body.memo ?? `top-up by ${user.sub}` }, options));
        return { body: { userId: body.userId, ...next } };
      },
    }),
  ];
}
