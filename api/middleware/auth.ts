import type { NextFunction, Request, RequestHandler } from 'express';
import type { Role } from '../../domain/roles.ts';
import { createTokenVerifier, InvalidTokenError, type Identity } from '../../runtime/tokens.ts';
import { forbidden, unauthorized, type HttpError } from '../errors.ts';
import type { UserDirectory } from '../user-directory.ts';

declare module 'express-serve-static-core' {
  interface Request {
    user?: Identity;
  }
}

/** Browser pages (Bull Board, the ops map) carry the token in this HttpOnly cookie. */
export const TOKEN_COOKIE = 'deligo_token';

/**
 * Accepts `Authorization: Bearer <jwt>` or the session cookie, verifies it, and records the
 * user on first use. A missing or bad token is 401; a token whose role disagrees with the
 * role on record is 403.
 */
export type Authenticator = RequestHandler & {
  /**
   * The caller, when settled without waiting: a bearer token verified before whose user is on
   * record with the token's role. Else undefined (the request then goes through the handler).
   */
  identify(headers: { authorization?: string }): Identity | undefined;
};

export function authenticate(options: { secret: string; users: UserDirectory }): Authenticator {
  const verify = createTokenVerifier(options.secret);
  const admit = (req: Request, identity: Identity, recorded: Role, next: NextFunction) => {
    if (recorded !== identity.role) {
      return next(forbidden(`user ${identity.sub} is registered as ${recorded}, not ${identity.role}`));
    }
    req.user = identity;
    next();
  };
  const firstSight = async (req: Request, token: string, next: NextFunction) => {
    let identity: Identity;
    try {
      identity = await verify(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) return next(unauthorized(err.message));
      return next(err);
    }
    admit(req, identity, await options.users.ensure(identity), next);
  };
  const identify = (headers: { authorization?: string }) => {
    const token = bearer(headers.authorization);
    const identity = token ? verify.cached(token) : undefined;
    return identity && options.users.known(identity.sub) === identity.role ? identity : undefined;
  };
  const handler: RequestHandler = (req, _res, next) => {
    const token = bearer(req.headers.authorization) ?? readCookie(req.headers.cookie, TOKEN_COOKIE);
    if (!token) return next(unauthorized('missing bearer token: send Authorization: Bearer <token>'));
    // A token and a user seen before (a rider's every fix after the first) are settled without
    // waiting for anything; only a first sight verifies the signature and asks Postgres.
    const identity = verify.cached(token);
    const recorded = identity && options.users.known(identity.sub);
    if (identity && recorded) return admit(req, identity, recorded, next);
    return firstSight(req, token, next);
  };
  return Object.assign(handler, { identify });
}

/** Must follow `authenticate`. */
export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => next(roleRefusal(req.user, roles));
}

/** Why `user` may not call a route for `roles` (401 or 403), or undefined when it may. */
export function roleRefusal(user: Identity | undefined, roles: readonly Role[]): HttpError | undefined {
  const role = user?.role;
  if (!role) return unauthorized('authentication required');
  if (!roles.includes(role)) return forbidden(`this needs role ${roles.join(' or ')}; the token has role ${role}`);
  return undefined;
}

function bearer(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}
