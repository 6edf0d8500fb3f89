import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { createOffers, openDispatches, type OfferRequest, type OpenRequest } from '../db/dispatch-batch-repository.ts';
import type { MatchSubject, OfferOutcome } from '../db/dispatch-repository.ts';
import { farthestPickupMeters, type ProfileRow } from '../db/rider-profiles-repository.ts';
import type { NewDelivery } from '../db/notification-deliveries-repository.ts';
import type { LiveLocation } from '../location/live-location.ts';
import { nearbyModeFor, type NearbyQuery } from '../location/nearby-search.ts';
import { enqueueDeliveries } from '../notifications/notify.ts';
import type { Config } from '../runtime/config.ts';
import { createGroupCommit } from '../runtime/group-commit.ts';
import type { QueueSet } from '../runtime/queues.ts';
import { createCandidateFacts, type CandidateFacts } from './candidate-facts.ts';
import { scriptedCandidateSearch, type Candidates, type SearchCut } from './candidate-search.ts';
import { createOfferHolds } from './offer-holds.ts';
import { createOfferTimeouts } from './offer-timeouts.ts';
import type { Logger } from '../runtime/logger.ts';

/**
 * The round trips of a match, shared by the matches in flight at once (at a hot spot, dozens
 * in the dispatch worker): the steps that reach the same point in the same event-loop turn go
 * together (runtime/group-commit.ts), as one statement that opens every dispatch, one Redis round
 * trip for every candidate's facts, one claim script that gives every order a different rider, and
 * one statement that writes every offer with its push record, and what follows the offers (their
 * riders' profiles and busy status, their push and timeout jobs) in one write of each kind. Each match still runs on its own
 * (its own job, retries, timeout and widening); only its round trips are shared. Postgres's cost
 * was per statement and per commit, not per row, and so was much of Redis's and the worker's.
 *
 * Built once per worker process (workers/job-deps.ts); a match run without it (tests, tools) gets
 * batches of one.
 */
export interface MatchBatches {
  open(request: OpenRequest): Promise<MatchSubject | undefined>;
  /**
   * The available, fresh riders nearest the query point (as LiveLocation.nearby finds them) with
   * their facts for this order: on one Redis one script run (dispatch/candidate-search.ts); on a
   * cluster the nearby pipeline, then {@link facts}.
   */
  search(orderId: string, query: NearbyQuery, cut?: SearchCut): Promise<Candidates>;
  facts(orderId: string, riderIds: readonly string[]): Promise<Map<string, CandidateFacts>>;
  /** The first rider of `ranked` no other order holds, held until the offer would time out; undefined if none. */
  claim(orderId: string, ranked: readonly string[]): Promise<string | undefined>;
  offer(request: OfferRequest): Promise<OfferOutcome>;
  /** Once the offer is written: the rider's profile as it now stands, the rider out of the available pool, the push sent, the timeout set. */
  offered(made: OfferMade): Promise<void>;
  /** The farthest any rider will ride to a pickup, as Postgres has it now (concurrent matches share one read). */
  farthestPickup(): Promise<number>;
  /** Adds the timeout job of offers still waiting for their window to close (at shutdown). */
  close(): Promise<void>;
}

export interface OfferMade {
  offerId: string;
  riderId: string;
  profile: Pick<ProfileRow, 'max_distance_m' | 'auto_accept' | 'offers_received' | 'offers_accepted'>;
  /** The offer's push record (none for a rider who auto-accepts). */
  push?: NewDelivery;
}

export interface MatchBatchDeps {
  db: Knex;
  /** Producer connection: offer holds, candidate facts. */
  redis: Redis;
  queues: QueueSet;
  location: LiveLocation;
  config: Config;
  /** Where a timeout job that could not be added is reported. */
  logger?: Logger;
}

/**
 * How long a match's step waits for company while another batch of that step runs: 5 ms, since
 * every step of a match is on the way to its first offer (runtime/group-commit.ts: lingerMs).
 */
export const MATCH_STEP_LINGER_MS = 5;

export interface MatchBatchOptions {
  /** Batches of one kind in flight at once. Default 4. */
  maxInFlight?: number;
  /** Default {@link MATCH_STEP_LINGER_MS}. */
  lingerMs?: number;
  /**
   * Offers written within this many ms share one timeout job, added when the window closes
   * (dispatch/offer-timeouts.ts: createOfferTimeouts). Default 0: one job for each batch of offers,
   * added before the match's last step ends. The worker uses {@link OFFER_TIMEOUT_WINDOW_MS}.
   */
  timeoutWindowMs?: number;
}

/** The dispatch worker's timeout window: offers time out up to a quarter of a second late. */
export const OFFER_TIMEOUT_WINDOW_MS = 250;

export function createMatchBatches(deps: MatchBatchDeps, options: MatchBatchOptions = {}): MatchBatches {
  const { db, redis, config } = deps;
  const prefix = config.queuePrefix;
  // A claimed rider is held for as long as the offer would wait for them.
  const holdMs = config.dispatch.offerTimeoutMs;
  const facts = createCandidateFacts(db, redis, prefix);
  const holds = createOfferHolds(redis, prefix);
  const timeouts = createOfferTimeouts(deps.queues, {
    offerTimeoutMs: config.dispatch.offerTimeoutMs,
    windowMs: options.timeoutWindowMs ?? 0,
    onError: (err, offerIds) => deps.logger?.warn({ err, offers: offerIds.length }, 'could not add a timeout job; the offer sweep will expire its offers'),
  });
  const grouped = { maxInFlight: options.maxInFlight ?? 4, lingerMs: options.lingerMs ?? MATCH_STEP_LINGER_MS };
  const readFacts = (() => {
    const read = createGroupCommit((requests: Array<{ orderId: string; riderIds: readonly string[] }>) => facts.readMany(requests, Date.now()), grouped);
    return (orderId: string, riderIds: readonly string[]) => read({ orderId, riderIds });
  })();
  return {
    open: createGroupCommit((requests: OpenRequest[]) => openDispatches(db, requests), grouped),
    search:
      nearbyModeFor(redis) === 'script'
        ? scriptedCandidateSearch(redis, deps.location.keys, facts, prefix)
        : async (orderId, query) => {
            const riders = await deps.location.nearby(query);
            return { riders, facts: await readFacts(orderId, riders.map((r) => r.riderId)) };
          },
    facts: readFacts,
    claim: (() => {
      const claim = createGroupCommit((claims: Array<{ orderId: string; ranked: readonly string[] }>) => {
        const now = Date.now();
        return holds.claimEach(claims, now, now + holdMs);
      }, grouped);
      return (orderId: string, ranked: readonly string[]) => claim({ orderId, ranked });
    })(),
    offer: createGroupCommit((requests: OfferRequest[]) => createOffers(db, requests), grouped),
    farthestPickup: (() => {
      const read = createGroupCommit(async (asks: null[]) => {
        const meters = await farthestPickupMeters(db);
        return asks.map(() => meters);
      }, grouped);
      return () => read(null);
    })(),
    offered: createGroupCommit(async (made: OfferMade[]) => {
      const now = Date.now();
      const pushes = made.flatMap((m) => (m.push ? [m.push] : []));
      await Promise.all([
        facts.saveProfiles(made.map((m) => ({ riderId: m.riderId, profile: m.profile }))),
        // While they consider it the rider is out of the available pool, so other orders' searches
        // at a hot spot do not wade through riders who cannot take them; a reject or a timeout puts
        // them back (dispatch/accept.ts).
        deps.location.setStatuses(made.map((m) => m.riderId), 'busy', now),
        pushes.length > 0 && enqueueDeliveries(deps, pushes),
        // One delayed timeout job for the offers written together, or within the window (dispatch/offer-timeouts.ts).
        timeouts.add(made.map((m) => m.offerId)),
      ]);
      return made.map(() => undefined);
    }, grouped),
    close: () => timeouts.flush(),
  };
}
