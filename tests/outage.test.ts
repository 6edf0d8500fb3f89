import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../api/app.ts';
import { listen } from '../api/server.ts';
import { migrateLatest } from '../db/knex.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../runtime/embedded/postgres-server.ts';
import { startEmbeddedRedis, type EmbeddedRedis } from '../runtime/embedded/redis-server.ts';
import { loadConfig } from '../runtime/config.ts';
import { connectPlatform, type Platform } from '../runtime/platform.ts';
import { Releasers } from '../runtime/shutdown.ts';
import { signToken } from '../runtime/tokens.ts';
import { eventually, testLogger } from './support/services.ts';

/** The API keeps running while Redis or Postgres is away, answers 503, and recovers by itself. */
describe('outages of Redis and Postgres', () => {
  const logger = testLogger();
  let dir: string;
  let redis: EmbeddedRedis;
  let pg: EmbeddedPostgres;
  let platform: Platform;
  let releasers: Releasers;
  let url: string;
  const port = (u: string) => Number(new URL(u).port);

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deligo-outage-'));
    await fs.chmod(dir, 0o755);
    redis = await startEmbeddedRedis({ dir: path.join(dir, 'redis'), logger, ephemeral: true });
    pg = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), logger, ephemeral: true });
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: redis.url, DATABASE_URL: pg.url });
    releasers = new Releasers(logger);
    platform = connectPlatform({ config, logger, urls: { redisUrl: redis.url, databaseUrl: pg.url }, releasers });
    await migrateLatest(platform.db);
    ({ url } = await listen(createApp(platform), { port: 0, host: '127.0.0.1', logger, releasers }));
  });
  after(async () => {
    await releasers.releaseAll();
    await pg.stop();
    await redis.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const readyz = async () => {
    const res = await fetch(`${url}/readyz`);
    return { status: res.status, body: await res.json() };
  };
  const me = async (sub: string) => fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${await signToken({ sub, role: 'customer' }, platform.config.jwt)}` } });

  it('Redis down: /readyz is 503 naming Redis; back up: ready again', async () => {
    const redisPort = port(redis.url);
    await redis.stop();
    const down = await readyz();
    assert.equal(down.status, 503);
    assert.equal(down.body.checks.redis.ok, false);
    assert.equal(down.body.checks.postgres.ok, true);
    const metrics = await fetch(`${url}/metrics`);
    assert.equal(metrics.status, 200, 'metrics still answer without Redis');

    redis = await startEmbeddedRedis({ dir: path.join(dir, 'redis'), logger, port: redisPort, ephemeral: true });
    await eventually(async () => (await readyz()).status === 200, 15_000, 'readiness after Redis returns');
  });

  it('Postgres down: requests that need it get 503 problem+json; back up: they work again', async () => {
    const pgPort = port(pg.url);
    await pg.stop();
    const res = await me('new-customer');
    assert.equal(res.status, 503);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(res.headers.get('retry-after'), '2');
    assert.match((await res.json()).detail, /unavailable; retry shortly/);
    assert.equal((await readyz()).body.checks.postgres.ok, false);

    pg = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), logger, port: pgPort, ephemeral: true });
    await eventually(async () => (await me('new-customer')).status === 200, 20_000, 'requests after Postgres returns');
    assert.equal((await readyz()).status, 200);
  });
});
