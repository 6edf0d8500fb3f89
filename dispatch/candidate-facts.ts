import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { profilesOf, suspendedRiders, type ProfileRow } from '../db/rider-profiles-repository.ts';

/**
 * What a matching step must know of each nearby rider besides where they are, kept in Redis so a
 * step reads it in the same round trip as the riders' availability instead of asking Postgres.
 * Postgres stays the record; the code that changes a fact there writes it here too:
 *
 * - profiles (max distance, auto-accept, offers received and accepted): written with the values
 *   the offer or accept statement returned (a whole value, not an increment, so a lost write heals
 *   at the next one); a rider not cached yet is read from Postgres once;
 * - fraud suspensions: the fraud check adds each critical finding with the time it lapses; if the
 *   set was lost (a Redis without persistence restarted), the next step rebuilds it from Postgres;
 * - who was asked for an order: added when the matcher claims a rider for it (dispatch/offer-holds.ts)
 *   and taken back when the offer was not made after all. The database's unique indexes stay the
 *   guarantee against two pending offers; this only keeps a rider from being asked twice.
 *
 * Every key carries the `{dispatch}` hash tag (with the offer holds), so the claim script can write
 * the asked set atomically with the hold on a Redis Cluster too.
 */
export interface CandidateFacts {
  maxDistanceMeters: number;
  autoAccept: boolean;
  offersReceived: number;
  offersAccepted: number;
  /** Already asked for this order. */
  asked: boolean;
  /** A critical GPS-fraud finding in the last half hour. */
  suspended: boolean;
  /** Considering another order's offer right now. */
  held: boolean;
}

/** How long a critical fraud finding keeps a rider out of dispatch. */
export const SUSPENSION_MS = 30 * 60_000;
/** An order's asked set outlives any dispatch (five rounds with backoff take minutes). */
const ASKED_TTL_SECONDS = 6 * 3600;

export function dispatchKeys(prefix: string) {
  return {
    holds: `${prefix}:offer-holds:{dispatch}`,
    profiles: `${prefix}:dispatch-profiles:{dispatch}`,
    suspended: `${prefix}:dispatch-suspended:{dispatch}`,
    /** Present once the suspended set was loaded from Postgres. */
    suspendedLoaded: `${prefix}:dispatch-suspended-loaded:{dispatch}`,
    asked: (orderId: string) => `${prefix}:dispatch-asked:{dispatch}:${orderId}`,
  };
}

export const ASKED_TTL = ASKED_TTL_SECONDS;

type Profile = Pick<ProfileRow, 'max_distance_m' | 'auto_accept' | 'offers_received' | 'offers_accepted'>;
const encode = (p: Profile) => `${p.max_distance_m}|${p.auto_accept ? 1 : 0}|${p.offers_received}|${p.offers_accepted}`;
const decode = (text: string): Profile => {
  const [max, auto, received, accepted] = text.split('|');
  return { max_distance_m: Number(max), auto_accept: auto === '1', offers_received: Number(received), offers_accepted: Number(accepted) };
};

export interface CandidateFactStore {
  /** The facts of each rider for one order: one Redis round trip (Postgres only for riders not cached yet). */
  read(orderId: string, riderIds: readonly string[], now: number): Promise<Map<string, CandidateFacts>>;
  /** {@link read} for several orders at once (concurrent matches): still one Redis round trip. */
  readMany(requests: ReadonlyArray<{ orderId: string; riderIds: readonly string[] }>, now: number): Promise<Array<Map<string, CandidateFacts>>>;
  /** A profile as Postgres now has it (returned by the statement that changed it). */
  saveProfile(riderId: string, profile: Profile): Promise<void>;
  /** {@link saveProfile} for several riders: one command. */
  saveProfiles(profiles: ReadonlyArray<{ riderId: string; profile: Profile }>): Promise<void>;
  /** Critical fraud findings: each keeps its rider out for {@link SUSPENSION_MS} from when it was stored. */
  suspend(findings: ReadonlyArray<{ riderId: string; at: number }>): Promise<void>;
  /**
   * The facts of riders whose cached values were read elsewhere (the dispatch search script reads
   * them with the search: dispatch/candidate-search.ts), completed as {@link read} does: a lost
   * suspension set is rebuilt, a profile not cached yet read from Postgres.
   */
  complete(ids: readonly string[], cached: CachedFacts, now: number): Promise<Map<string, Omit<CandidateFacts, 'asked'>>>;
}

/** What Redis holds of some riders' facts, one entry per rider in order (null: none). */
export interface CachedFacts {
  profiles: Array<string | null>;
  suspendedUntil: Array<string | null>;
  heldUntil: Array<string | null>;
  /** Whether the suspended set was loaded from Postgres. */
  loaded: boolean;
}

export function createCandidateFacts(db: Knex, redis: Redis, prefix: string): CandidateFactStore {
  const keys = dispatchKeys(prefix);
  const loadSuspensions = async (now: number) => {
    const rows = await suspendedRiders(db, new Date(now - SUSPENSION_MS));
    const pipeline = redis.pipeline();
    // GT: a later finding added meanwhile by the fraud check is never shortened.
    for (const r of rows) pipeline.zadd(keys.suspended, 'GT', r.at.getTime() + SUSPENSION_MS, r.rider_id);
    pipeline.set(keys.suspendedLoaded, '1');
    await pipeline.exec();
  };
  const store: CandidateFactStore = {
    async read(orderId, riderIds, now) {
      return (await store.readMany([{ orderId, riderIds }], now))[0]!;
    },
    async readMany(requests, now) {
      // Each rider once, however many of the orders found them: one pipeline for all of them.
      const ids = [...new Set(requests.flatMap((r) => r.riderIds))];
      if (ids.length === 0) return requests.map(() => new Map());
      const asking = requests.filter((r) => r.riderIds.length > 0);
      const pipeline = redis.pipeline().hmget(keys.profiles, ...ids).zmscore(keys.suspended, ...ids).zmscore(keys.holds, ...ids).exists(keys.suspendedLoaded);
      for (const r of asking) pipeline.smismember(keys.asked(r.orderId), ...(r.riderIds as string[]));
      const replies = (await pipeline.exec())!;
      for (const [err] of replies) if (err) throw err;
      const [profiles, suspended, held, loaded, ...askedReplies] = replies.map(([, reply]) => reply) as [Array<string | null>, Array<string | null>, Array<string | null>, number, ...number[][]];
      const shared = await store.complete(ids, { profiles, suspendedUntil: suspended, heldUntil: held, loaded: loaded === 1 }, now);
      const askedOf = new Map(asking.map((r, k) => [r, askedReplies[k]!]));
      return requests.map((r) => {
        const asked = askedOf.get(r);
        return new Map(r.riderIds.map((id, i) => [id, { ...shared.get(id)!, asked: asked?.[i] === 1 }]));
      });
    },
    async complete(ids, { profiles, suspendedUntil: suspended, heldUntil: held, loaded }, now) {
      let suspendedUntil = suspended;
      if (!loaded && ids.length > 0) {
        await loadSuspensions(now);
        suspendedUntil = await redis.zmscore(keys.suspended, ...ids);
      }
      const missing = ids.filter((_, i) => profiles[i] === null);
      const fetched = missing.length > 0 ? await profilesOf(db, missing) : new Map<string, Profile>();
      if (fetched.size > 0) await redis.hset(keys.profiles, Object.fromEntries([...fetched].map(([id, p]) => [id, encode(p)])));
      const shared = new Map<string, Omit<CandidateFacts, 'asked'>>();
      ids.forEach((id, i) => {
        const p = profiles[i] ? decode(profiles[i]!) : fetched.get(id)!;
        shared.set(id, {
          maxDistanceMeters: p.max_distance_m,
          autoAccept: p.auto_accept,
          offersReceived: p.offers_received,
          offersAccepted: p.offers_accepted,
          suspended: suspendedUntil[i] !== null && Number(suspendedUntil[i]) > now,
          held: held[i] !== null && Number(held[i]) > now,
        });
      });
      return shared;
    },
    async saveProfile(riderId, profile) {
      await redis.hset(keys.profiles, riderId, encode(profile));
    },
    async saveProfiles(profiles) {
      if (profiles.length === 0) return;
      await redis.hset(keys.profiles, Object.fromEntries(profiles.map((p) => [p.riderId, encode(p.profile)])));
    },
    async suspend(findings) {
      if (findings.length === 0) return;
      const pipeline = redis.pipeline().zremrangebyscore(keys.suspended, '-inf', Date.now());
      for (const f of findings) pipeline.zadd(keys.suspended, 'GT', f.at + SUSPENSION_MS, f.riderId);
      await pipeline.exec();
    },
  };
  return store;
}
