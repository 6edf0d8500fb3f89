import { SignJWT, decodeJwt, jwtVerify, errors } from 'jose';
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
  return verifyWith(token, key(secret));
}

/** `verifyToken` with the secret as raw bytes or as a key imported before (see createTokenVerifier). */
async function verifyWith(token: string, secret: Uint8Array | CryptoKey): Promise<Identity> {
  try {
    const { payload } = await jwtVerify(token, secret, { algorithms: [ALG], issuer: ISSUER });
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

/** Verifies tokens, remembering the ones it has verified. */
export interface TokenVerifier {
  (token: string): Promise<Identity>;
  /** The identity of a token verified before and not yet expired, without waiting; else undefined. */
  cached(token: string): Identity | undefined;
}

/**
 * Remembers tokens it has verified until they expire. Riders post a point every few seconds with
 * the same token; checking its signature once instead of every time takes the async HMAC (a
 * thread-pool round trip) off the ingest path. Only successfully verified tokens are kept.
 */
export function createTokenVerifier(secret: string, options: { maxEntries?: number; now?: () => number } = {}): TokenVerifier {
  const maxEntries = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  const verified = new Map<string, { identity: Identity; expiresAt: number }>();
  const cached = (token: string) => {
    const hit = verified.get(token);
    if (!hit) return undefined;
    if (hit.expiresAt > now()) return hit.identity;
    verified.delete(token);
    return undefined;
  };
  // The HMAC key imported once: given raw bytes, jose imports them into WebCrypto on every verify,
  // which cost as much as the check itself when a hot spot's riders are first seen by the hundred.
  let imported: Promise<CryptoKey> | undefined;
  const hmacKey = () => (imported ??= crypto.subtle.importKey('raw', key(secret) as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']));
  const verify = async (token: string) => {
    const hit = cached(token);
    if (hit) return hit;
    const identity = await verifyWith(token, await hmacKey());
    const exp = decodeJwt(token).exp;
    if (exp !== undefined) {
      // Map keeps insertion order: dropping the first key evicts the oldest entry.
      if (verified.size >= maxEntries) verified.delete(verified.keys().next().value!);
      verified.set(token, { identity, expiresAt: exp * 1000 });
    }
    return identity;
  };
  return Object.assign(verify, { cached });
}
