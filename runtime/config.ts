import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { notificationEnv, toNotificationConfig, type NotificationConfig } from './config-notifications.ts';
import { giftEnv, toGiftConfig, type GiftConfig } from './config-gifts.ts';
import type { QueueShardCounts } from './queue-registry.ts';
import { clusterUrl } from './redis-cluster.ts';

/**
 * Every setting deligo reads from the environment, with its default.
 * Only entry points call {@link loadConfig}; everything else receives the result.
 */
const port = 'an integer port from 0 to 65535';
const millis = 'a whole number of milliseconds, at least 100';

const schema = z.object({
  /** `development` enables the dev JWT secret and pretty start-up banner. Default `development`. */
  NODE_ENV: z.enum(['development', 'test', 'production'], { error: 'development, test or production' }).default('development'),
  /** HTTP port of the API. Default 3000. */
  PORT: z.coerce.number({ error: port }).int(port).min(0, port).max(65535, port).default(3000),
  /** Interface the API binds. Default `0.0.0.0`. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Redis URL. When unset, a private redis-server is started under DATA_DIR/redis. */
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'a URL such as redis://127.0.0.1:6379' }).optional(),
  /**
   * Seed nodes of a Redis Cluster, `host:port` separated by commas (a few masters suffice; the
   * client learns the rest). Use instead of REDIS_URL. Default: unset (one Redis).
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((text) => text.split(',').map((node) => node.trim()))
    .refine(
      (nodes) => nodes.every((node) => /^[A-Za-z0-9._-]+:\d{1,5}$/.test(node) && Number(node.split(':')[1]) >= 1 && Number(node.split(':')[1]) <= 65535),
      'host:port pairs separated by commas, such as 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003',
    )
    .optional(),
  /** ACL user for every cluster node (Redis 6+ ACLs). Default: unset (the `default` user). */
  REDIS_CLUSTER_USERNAME: z.string().min(1, 'a user name').optional(),
  /** Password for every cluster node (`requirepass`, or the ACL user's). Default: unset. */
  REDIS_CLUSTER_PASSWORD: z.string().min(1, 'a password').optional(),
  /** `true` speaks TLS to every cluster node, as managed clusters with in-transit encryption require. Default `false`. */
  REDIS_CLUSTER_TLS: z.enum(['true', 'false'], { error: 'true or false' }).default('false'),
  /** PEM file of the CA that signed the nodes' certificates, when it is not a public one. Default: unset. */
  REDIS_CLUSTER_TLS_CA_FILE: z.string().min(1, 'a file path').optional(),
  /**
   * BullMQ queues the location work is split over, by rider, so it spreads over cluster slots.
   * Default 4 on a cluster (REDIS_CLUSTER_NODES), 1 on one Redis: there a shard buys nothing and
   * costs group-commit size (bench/ingest), and one shard keeps the queue's name `{location}`.
   */
  LOCATION_QUEUE_SHARDS: z.coerce.number({ error: 'a whole number from 1 to 64' }).int('a whole number from 1 to 64').min(1, 'a whole number from 1 to 64').max(64, 'a whole number from 1 to 64').optional(),
  /** Postgres URL. When unset, embedded Postgres is started under DATA_DIR/pg. */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'a URL such as postgres://user:pass@127.0.0.1:5432/deligo' }).optional(),
  /** Postgres schema of every table. Default `public`. */
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case Postgres identifier').default('public'),
  /** `false` sends each of deligo's own Redis commands in its own write instead of batching those of one event-loop turn. Default `true`. */
  REDIS_AUTO_PIPELINING: z.enum(['true', 'false'], { error: 'true or false' }).default('true'),
  /** Postgres connections per process. Default 10; busy API and dispatch processes want more. */
  DATABASE_POOL_MAX: z.coerce.number({ error: 'a whole number from 1 to 200' }).int().min(1).max(200).default(10),
  /** Where embedded services keep their data. Default `.data`. */
  DATA_DIR: z.string().min(1).default('.data'),
  /** Prefix of every BullMQ key. Default `deligo`. */
  QUEUE_PREFIX: z.string().regex(/^[a-z0-9_-]+$/i, 'letters, digits, "-" or "_"').default('deligo'),
  /** HS256 secret for access tokens. Must be set (32+ characters) in production. */
  JWT_SECRET: z.string().min(32, 'a secret of at least 32 characters').optional(),
  /** Lifetime of tokens printed by `deligo token`. Default `12h`. */
  JWT_TTL: z.string().regex(/^\d+[smhd]$/, 'a duration such as 30m, 12h or 7d').default('12h'),
  /** pino level. Default `info`. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'fatal, error, warn, info, debug, trace or silent' }).default('info'),
  /** Comma-separated pools this process runs, or `all`. Default `all`. */
  WORKER_POOLS: z.string().regex(/^[a-z0-9,-]+$/, 'pool names separated by commas, or "all"').default('all'),
  /** Largest request body the API accepts. Default `512kb`. */
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/, 'a size such as 512kb or 1mb').default('512kb'),
  /** User ids of the ops team, who get fraud and dispatch alerts by push. Default `ops`. */
  OPS_ALERT_USERS: z.string().regex(/^[\w.@:-]+(,[\w.@:-]+)*$/, 'user ids separated by commas').default('ops'),
  /** How long a rider has to accept an offer, in ms. Default 15000 (seed 000: 15초). */
  DISPATCH_OFFER_TIMEOUT_MS: z.coerce.number({ error: millis }).int(millis).min(100, millis).default(15_000),
  /** First search radius around the restaurant, in metres; each later round widens it by half. Default 3000. */
  DISPATCH_RADIUS_M: z.coerce.number({ error: 'a whole number of metres' }).int().min(100).max(50_000).default(3_000),
  /** Offers per round before the radius widens (seed 003: 5). */
  DISPATCH_OFFERS_PER_ROUND: z.coerce.number({ error: 'a whole number' }).int().min(1).max(50).default(5),
  /** Rounds before ops and the customer are told no rider was found. Default 3. */
  DISPATCH_ROUNDS: z.coerce.number({ error: 'a whole number' }).int().min(1).max(10).default(3),
  /** Wait before a new round; doubles every round. Default 5000 ms. */
  DISPATCH_RETRY_MS: z.coerce.number({ error: millis }).int(millis).min(100, millis).default(5_000),
  /** Credits (won) every user gets when their credit account is first touched. Default 50000. */
  CREDITS_WELCOME: z.coerce.number({ error: 'a whole number of won' }).int('a whole number of won').min(0, 'a whole number of won').max(10_000_000, 'at most 10,000,000 won').default(50_000),
  /** How long a group order waits for a neighbour before it is cancelled and refunded, in ms. Default 1800000 (seed 002: 30분). */
  GROUP_ORDER_EXPIRY_MS: z.coerce.number({ error: millis }).int(millis).min(100, millis).default(1_800_000),
  /** How long past its expiry an open group waits before the reconciler closes it (its delayed job was lost). Default 5000. */
  GROUP_ORDER_RECONCILE_GRACE_MS: z.coerce.number({ error: millis }).int(millis).min(100, millis).default(5_000),
  /** OSRM routing engine (`http://osrm:5000`) for travel times and route guidance; unset: straight lines. */
  OSRM_URL: z.url({ protocol: /^https?$/, error: 'a URL such as http://127.0.0.1:5000' }).optional(),
  /** How long one OSRM request may take before the straight-line estimate is used, in ms. Default 1000. */
  OSRM_TIMEOUT_MS: z.coerce.number({ error: millis }).int(millis).min(100, millis).default(1_000),
  /** How long a shutdown may take before the process is forced out, in ms. Default 30000. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number({ error: millis }).int(millis).min(100, millis).default(30_000),
  /** Map tiles under the ops map, e.g. `https://tile.example.com/{z}/{x}/{y}.png`. Default: none (a plain grid). */
  MAP_TILE_URL: z
    .url({ protocol: /^https?$/, error: 'an http(s) URL with {z}, {x} and {y}' })
    .refine((u) => ['{z}', '{x}', '{y}'].every((p) => u.includes(p)), 'an http(s) URL with {z}, {x} and {y}')
    .optional(),
  ...notificationEnv,
  ...giftEnv,
});

export type Env = z.input<typeof schema>;

export interface Config {
  env: 'development' | 'test' | 'production';
  http: { port: number; host: string; bodyLimit: string };
  /** A `redis://` URL, or a `redis-cluster://` target built from REDIS_CLUSTER_NODES. */
  redisUrl?: string;
  databaseUrl?: string;
  /** BullMQ queues per sharded queue (the location queue). */
  queueShards: QueueShardCounts;
  databaseSchema: string;
  databasePoolMax: number;
  /** deligo's own Redis connection batches the commands of one event-loop turn into one write. */
  redisAutoPipelining: boolean;
  dataDir: string;
  queuePrefix: string;
  jwt: { secret: string; ttl: string };
  logLevel: string;
  workerPools: string[] | 'all';
  shutdownTimeoutMs: number;
  dispatch: { offerTimeoutMs: number; radiusMeters: number; offersPerRound: number; rounds: number; retryMs: number };
  /** Travel times and route guidance: OSRM when configured, else straight lines. */
  routing: { osrmUrl?: string; timeoutMs: number };
  /** Who hears about fraud and failed dispatch. */
  opsUserIds: string[];
  credits: { welcome: number };
  groupOrders: { expiryMs: number; reconcileGraceMs: number };
  notifications: NotificationConfig;
  /** Scheduled gifts: send window, modification cutoff, reconciler and housekeeping intervals. */
  gifts: GiftConfig;
  /** The ops map's background tiles; null draws a plain grid. */
  map: { tileUrl: string | null };
}

/** Never echoed back in an error message. */
const SECRETS = new Set(['JWT_SECRET', 'REDIS_CLUSTER_PASSWORD', 'FCM_SERVICE_ACCOUNT_JSON', 'SMTP_URL', 'SMS_HTTP_AUTH', 'KAKAO_HTTP_AUTH']);

/** A configuration problem, phrased as the one line a person needs to fix it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Fixed development secret, so tokens from `deligo token` keep working across restarts. */
const DEV_JWT_SECRET = 'deligo-development-secret-do-not-use-in-production';

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = schema.safeParse(pickKnown(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    const shown = SECRETS.has(variable) ? '(hidden)' : JSON.stringify(env[variable] ?? '');
    throw new ConfigError(`invalid ${variable}=${shown}: ${describe(issue)}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.JWT_SECRET) {
    throw new ConfigError('missing JWT_SECRET: production needs a secret of at least 32 characters');
  }
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) {
    throw new ConfigError('both REDIS_URL and REDIS_CLUSTER_NODES are set: set REDIS_URL for one Redis or REDIS_CLUSTER_NODES for a cluster, not both');
  }
  const clusterOnly = (['REDIS_CLUSTER_USERNAME', 'REDIS_CLUSTER_PASSWORD', 'REDIS_CLUSTER_TLS_CA_FILE'] as const).find((k) => e[k] !== undefined) ?? (e.REDIS_CLUSTER_TLS === 'true' ? 'REDIS_CLUSTER_TLS' : undefined);
  if (clusterOnly && !e.REDIS_CLUSTER_NODES) {
    // One Redis takes its credentials and TLS in REDIS_URL (redis://user:password@host, rediss://).
    throw new ConfigError(`${clusterOnly} is set but REDIS_CLUSTER_NODES is not: for one Redis put credentials and TLS in REDIS_URL (rediss://user:password@host:port)`);
  }
  if (e.REDIS_CLUSTER_USERNAME && !e.REDIS_CLUSTER_PASSWORD) {
    throw new ConfigError('REDIS_CLUSTER_USERNAME is set but REDIS_CLUSTER_PASSWORD is not: an ACL user needs its password');
  }
  if (e.REDIS_CLUSTER_TLS_CA_FILE && e.REDIS_CLUSTER_TLS !== 'true') {
    throw new ConfigError('REDIS_CLUSTER_TLS_CA_FILE is set but REDIS_CLUSTER_TLS is not true');
  }
  if (e.REDIS_CLUSTER_TLS_CA_FILE && !fs.existsSync(e.REDIS_CLUSTER_TLS_CA_FILE)) {
    throw new ConfigError(`invalid REDIS_CLUSTER_TLS_CA_FILE=${JSON.stringify(e.REDIS_CLUSTER_TLS_CA_FILE)}: no such file`);
  }
  const pools = e.WORKER_POOLS.split(',').filter(Boolean);
  return {
    env: e.NODE_ENV,
    http: { port: e.PORT, host: e.HOST, bodyLimit: e.BODY_LIMIT },
    redisUrl: e.REDIS_CLUSTER_NODES
      ? clusterUrl(e.REDIS_CLUSTER_NODES, { username: e.REDIS_CLUSTER_USERNAME, password: e.REDIS_CLUSTER_PASSWORD, tls: e.REDIS_CLUSTER_TLS === 'true', caFile: e.REDIS_CLUSTER_TLS_CA_FILE })
      : e.REDIS_URL,
    databaseUrl: e.DATABASE_URL,
    queueShards: { location: e.LOCATION_QUEUE_SHARDS ?? (e.REDIS_CLUSTER_NODES ? 4 : 1) },
    databaseSchema: e.DATABASE_SCHEMA,
    databasePoolMax: e.DATABASE_POOL_MAX,
    redisAutoPipelining: e.REDIS_AUTO_PIPELINING === 'true',
    dataDir: path.resolve(cwd, e.DATA_DIR),
    queuePrefix: e.QUEUE_PREFIX,
    jwt: { secret: e.JWT_SECRET ?? DEV_JWT_SECRET, ttl: e.JWT_TTL },
    logLevel: e.LOG_LEVEL,
    workerPools: pools.length === 0 || pools.includes('all') ? 'all' : pools,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    opsUserIds: e.OPS_ALERT_USERS.split(','),
    dispatch: {
      offerTimeoutMs: e.DISPATCH_OFFER_TIMEOUT_MS,
      radiusMeters: e.DISPATCH_RADIUS_M,
      offersPerRound: e.DISPATCH_OFFERS_PER_ROUND,
      rounds: e.DISPATCH_ROUNDS,
      retryMs: e.DISPATCH_RETRY_MS,
    },
    credits: { welcome: e.CREDITS_WELCOME },
    groupOrders: { expiryMs: e.GROUP_ORDER_EXPIRY_MS, reconcileGraceMs: e.GROUP_ORDER_RECONCILE_GRACE_MS },
    routing: { osrmUrl: e.OSRM_URL, timeoutMs: e.OSRM_TIMEOUT_MS },
    notifications: toNotificationConfig(e, (message) => {
      throw new ConfigError(message);
    }),
    gifts: toGiftConfig(e),
    map: { tileUrl: e.MAP_TILE_URL ?? null },
  };
}

/** Empty strings mean "unset", as they do in most shells and compose files. */
function pickKnown(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

function describe(issue: z.core.$ZodIssue): string {
  return `expected ${issue.message}`;
}
