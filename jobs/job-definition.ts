import type { JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import type { z } from 'zod';
import type { Config } from '../runtime/config.ts';
import type { Logger } from '../runtime/logger.ts';
import type { QueueId } from '../runtime/queue-registry.ts';
import type { QueueSet } from '../runtime/queues.ts';
import type { NotificationServices } from '../notifications/services.ts';
import type { LiveLocation } from '../location/live-location.ts';
import type { HistoryWriter } from '../location/history-writer.ts';
import type { OrderTracking } from '../location/order-tracking.ts';
import type { GiftSender } from '../gifts/sender.ts';
import type { MatchBatches } from '../dispatch/match-batches.ts';

/** What every handler may use. Handlers never open connections of their own. */
export interface JobDeps {
  config: Config;
  db: Knex;
  /** Producer connection, for reads, writes and publishes outside BullMQ. */
  redis: Redis;
  queues: QueueSet;
  /** Providers per channel and the delivery records the send job works on. */
  notifications: NotificationServices;
  /** Live rider positions, statuses and the geo index, in Redis. */
  location: LiveLocation;
  /** Rider point history in Postgres, written in shared COPY batches. */
  history: HistoryWriter;
  /** The live view of active orders in Redis, for tracking reads and streams. */
  tracking: OrderTracking;
  /** The batched, exactly-once gift sender. */
  gifts: { sender: GiftSender };
  /** The round trips concurrent `dispatch.match` runs share (dispatch/match-batches.ts). */
  dispatchBatches?: MatchBatches;
}

export interface JobContext extends JobDeps {
  /** Child logger already carrying queue, job name and job id. */
  logger: Logger;
  /**
   * `attemptsMade`: attempts that ended before this one; `attemptsStarted`: attempts begun,
   * this one and any lost with a crashed worker included; `attempts`: the most the job gets;
   * `enqueuedAt`: when the job was added (the same on every retry).
   */
  job: { id: string; name: string; queue: QueueId; attemptsMade: number; attemptsStarted: number; attempts: number; worker: string; enqueuedAt: number };
}

/**
 * One job type: its name, the queue it runs on, its payload schema, its options and its handler.
 * The handler receives the parsed payload; a payload that does not parse fails the job at once.
 */
export interface JobDefinition<P = unknown> {
  name: string;
  /** The queue it runs on, or several (one per notification channel, say). */
  queue: QueueId | readonly QueueId[];
  payload: z.ZodType<P>;
  /** Overrides the queue's defaults from the registry. */
  options?: JobsOptions;
  handler(payload: P, ctx: JobContext): Promise<unknown>;
}

/** Keeps the payload type while erasing it for the registry list. */
export function defineJob<P>(definition: JobDefinition<P>): JobDefinition<P> {
  return definition;
}

export function jobQueues(definition: JobDefinition<any>): readonly QueueId[] {
  return typeof definition.queue === 'string' ? [definition.queue] : definition.queue;
}
