import type { Knex } from 'knex';
import { z } from 'zod';
import { registerDevice, unregisterDevice } from '../../db/devices-repository.ts';
import { ROLES } from '../../domain/roles.ts';
import { notFound } from '../errors.ts';
import { defineRoute } from '../route.ts';

// FCM registration tokens are long opaque strings; this bounds them without guessing their format.
const token = z.string().trim().min(16, 'a push token of at least 16 characters').max(4_096).regex(/^[\w:.\-/+=]+$/, 'letters, digits and : . - _ / + = only');

/** Push devices of the caller, any role: customers, riders, restaurant tablets, ops phones. */
export function deviceRoutes(deps: { db: Knex }) {
  return [
    defineRoute({
      method: 'put',
      path: '/v1/me/devices',
      roles: ROLES,
      body: z.object({ token, platform: z.enum(['ios', 'android', 'web'], { error: 'ios, android or web' }) }),
      async handler({ user, body }) {
        await registerDevice(deps.db, user.sub, body.token, body.platform);
        return { status: 200, body: { token: body.token, platform: body.platform } };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/me/devices/:token',
      roles: ROLES,
      params: z.object({ token }),
      async handler({ user, params }) {
        if (!(await unregisterDevice(deps.db, user.sub, params.token))) throw notFound('no such device token for this user');
        return { status: 204 };
      },
    }),
  ];
}
