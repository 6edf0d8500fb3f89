import { SignJWT, jwtVerify, errors } from 'jose';
import { isRole, type Role } from '../domain/roles.ts';

/** Who a verified token says the caller is. */
export interface Identity {
  sub: string;
  role: Role;
}

export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

const ALG = 'HS256';
const ISSUER = 'deligo';

function key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** Signs an access token. `ttl` is a jose duration such as `12h`. */
export async function signToken(identity: Identity, options: { secret: string; ttl: string }): Promise<string> {
  return new SignJWT({ role: identity.role })
    .setProtectedHeader({ alg: ALG })
    .setSubject(identity.sub)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(options.ttl)
    .sign(key(options.secret));
}

/** Verifies signature, issuer and expiry, and that the claims name a user and a known role. */
export async function verifyToken(token: string, secret: string): Promise<Identity> {
  try {
    const { payload } = await jwtVerify(token, key(secret), { algorithms: [ALG], issuer: ISSUER });
    // Ids end up in Redis keys, COPY rows and logs: no control characters.
    if (typeof payload.sub !== 'string' || !/^[^\u0000-\u001f\u007f]{1,128}$/.test(payload.sub)) {
      throw new InvalidTokenError('token has no usable sub claim');
    }
    if (!isRole(payload.role)) throw new InvalidTokenError('token role must be customer, rider, restaurant or admin');
    return { sub: payload.sub, role: payload.role };
  } catch (err) {
    if (err instanceof InvalidTokenError) throw err;
    if (err instanceof errors.JWTExpired) throw new InvalidTokenError('token has expired');
    throw new InvalidTokenError('token is not a valid deligo token');
  }
}
