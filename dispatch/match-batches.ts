import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { createOffers, openDispatches, type OfferRequest, type OpenRequest } from '../db/dispatch-batch-repository.ts';
import type { MatchSubject, OfferOutcome } from '../db/dispatch-repository.ts';
import { createGroupCommit } from '../runtime/group-commit.ts';
import { createCandidateFacts, type CandidateFacts } from './candidate-facts.ts';
import { createOfferHolds } from './offer-holds.ts';

/**
 * The four round trips of a match, shared by the matches in flight at once (at a hot spot, dozens
 * in the dispatch worker): the steps that reach the same point in the same event-loop turn go
 * together (runtime/group-commit.ts), as one statement that opens every dispatch, one Redis round
 * trip for every candidate's facts, one claim script that gives every order a different rider, and
 * one statement that writes every offer with its push record. Each match still runs on its own
 * (its own job, retries, timeout and widening); only its round trips are shared. Postgres's cost
 * was per statement and per commit, not per row, and so was much of Redis's and the worker's.
 *
 * Built once per worker process (workers/job-deps.ts); a match run without it (tests, tools) gets
 * batches of one.
 */
export interface MatchBatches {
  open(request: OpenRequest): Promise<MatchSubject | undefined>;
  facts(orderId: string, riderIds: readonly string[]): Promise<Map<string, CandidateFacts>>;
  /** The first rider of `ranked` no other order holds, held until the offer would time out; undefined if none. */
  claim(orderId: string, ranked: readonly string[]): Promise<string | undefined>;
  offer(request: OfferRequest): Promise<OfferOutcome>;
}

export interface MatchBatchOptions {
  /** How long a claimed rider is held for the offer (the offer's timeout). */
  holdMs: number;
  /** Batches of one kind in flight at once. Default 4. */
  maxInFlight?: number;
}

export function createMatchBatches(db: Knex, redis: Redis, prefix: string, options: MatchBatchOptions): MatchBatches {
  const facts = createCandidateFacts(db, redis, prefix);
  const holds = createOfferHolds(redis, prefix);
  const grouped = { maxInFlight: options.maxInFlight ?? 4 };
  return {
    open: createGroupCommit((requests: OpenRequest[]) => openDispatches(db, requests), grouped),
    facts: (() => {
      const read = createGroupCommit((requests: Array<{ orderId: string; riderIds: readonly string[] }>) => facts.readMany(requests, Date.now()), grouped);
      return (orderId: string, riderIds: readonly string[]) => read({ orderId, riderIds });
    })(),
    claim: (() => {
      const claim = createGroupCommit((claims: Array<{ orderId: string; ranked: readonly string[] }>) => {
        const now = Date.now();
        return holds.claimEach(claims, now, now + options.holdMs);
      }, grouped);
      return (orderId: string, ranked: readonly string[]) => claim({ orderId, ranked });
    })(),
    offer: createGroupCommit((requests: OfferRequest[]) => createOffers(db, requests), grouped),
  };
}
