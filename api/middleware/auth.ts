import type { RequestHandler } from 'express';
import type { Role } from '../../domain/roles.ts';
import { createTokenVerifier, InvalidTokenError, type Identity } from '../../runtime/tokens.ts';
import { forbidden, unauthorized } from '../errors.ts';
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
export function authenticate(options: { secret: string; users: UserDirectory }): RequestHandler {
  const verify = createTokenVerifier(options.secret);
  return async (req, _res, next) => {
    const token = bearer(req.headers.authorization) ?? readCookie(req.headers.cookie, TOKEN_COOKIE);
    if (!token) return next(unauthorized('missing bearer token: send Authorization: Bearer <token>'));
    let identity: Identity;
    try {
      identity = await verify(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) return next(unauthorized(err.message));
      return next(err);
    }
    const recorded = await options.users.ensure(identity);
    if (recorded !== identity.role) {
      return next(forbidden(`user ${identity.sub} is registered as ${recorded}, not ${identity.role}`));
    }
    req.user = identity;
    next();
  };
}

/** Must follow `authenticate`. */
export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    const role = req.user?.role;
    if (!role) return next(unauthorized('authentication required'));
    if (!roles.includes(role)) return next(forbidden(`this needs role ${roles.join(' or ')}; the token has role ${role}`));
    next();
  };
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
