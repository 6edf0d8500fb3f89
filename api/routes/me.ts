import { ROLES } from '../../domain/roles.ts';
import { defineRoute } from '../route.ts';

/** Who am I? Any signed-in caller; handy to check a token and the first-use user record. */
export function meRoutes() {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/me',
      roles: ROLES,
      handler: ({ user }) => ({ body: { id: user.sub, role: user.role } }),
    }),
  ];
}
