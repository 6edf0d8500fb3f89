import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../runtime/embedded/postgres-server.ts';
import { localSocket } from '../runtime/embedded/processes.ts';
import { startEmbeddedRedis, type EmbeddedRedis } from '../runtime/embedded/redis-server.ts';
import { testLogger } from './support/services.ts';

/**
 * The embedded Redis and Postgres are reached through Unix sockets by the URLs they hand out (less
 * kernel time per round trip than loopback TCP), and still listen on their TCP port.
 */
describe('embedded servers: Unix sockets', () => {
  const logger = testLogger();
  let dir: string;
  let redis: EmbeddedRedis;
  let postgres: EmbeddedPostgres;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deligo-sockets-'));
    await fs.chmod(dir, 0o755);
    redis = await startEmbeddedRedis({ dir: path.join(dir, 'redis'), logger, ephemeral: true });
    postgres = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), logger, ephemeral: true });
  });
  after(async () => {
    await postgres.stop();
    await redis.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('Redis: the URL connects through the socket; the port still answers', async () => {
    const url = new URL(redis.url);
    assert.equal(url.searchParams.get('path'), path.join(dir, 'redis', 'redis.sock'));
    const viaUrl = new Redis(redis.url);
    const viaPort = new Redis(Number(url.port), '127.0.0.1');
    try {
      assert.match(await viaUrl.client('INFO') as string, /\baddr=\/[^ ]*redis\.sock:0 /);
      assert.match(await viaPort.client('INFO') as string, /\baddr=127\.0\.0\.1:\d+ /);
    } finally {
      viaUrl.disconnect();
      viaPort.disconnect();
    }
  });

  it('Postgres: the URL connects through the socket; the port still answers', async () => {
    assert.equal(new URL(postgres.url).searchParams.get('host'), path.join(dir, 'pg'));
    const viaUrl = new pg.Client({ connectionString: postgres.url });
    const tcp = new URL(postgres.url);
    tcp.search = '';
    const viaPort = new pg.Client({ connectionString: tcp.toString() });
    await viaUrl.connect();
    await viaPort.connect();
    try {
      // No client address: a Unix socket.
      assert.equal((await viaUrl.query('SELECT inet_client_addr() AS addr')).rows[0].addr, null);
      assert.equal((await viaPort.query('SELECT inet_client_addr() AS addr')).rows[0].addr, '127.0.0.1');
    } finally {
      await viaUrl.end();
      await viaPort.end();
    }
  });

  it('a socket path too long for the kernel is not used (the URLs stay on TCP)', () => {
    assert.equal(localSocket(`/tmp/${'x'.repeat(120)}/redis.sock`), undefined);
    assert.equal(localSocket('/tmp/short/redis.sock'), '/tmp/short/redis.sock');
  });
});
