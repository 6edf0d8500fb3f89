import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../runtime/config.ts';
import { createLogger } from '../../runtime/logger.ts';
import { clusterTarget, redisEnv } from '../../runtime/redis-cluster.ts';
import { createRedis, waitForRedis } from '../../runtime/redis.ts';
import { startTestRedisCluster, type TestRedisCluster } from '../support/redis-cluster.ts';

const PASSWORD = 'p@ss:w/rd 비밀';

/**
 * A managed Redis Cluster (in-transit encryption and AUTH on) as deligo reaches it: the settings
 * REDIS_CLUSTER_NODES, REDIS_CLUSTER_PASSWORD, REDIS_CLUSTER_TLS and REDIS_CLUSTER_TLS_CA_FILE, a
 * self-signed CA made here with openssl, and BullMQ running a job over it.
 */
describe('on Redis Cluster with a password and TLS', () => {
  const logger = createLogger({ level: 'warn', name: 'cluster-credentials' });
  let dir: string;
  let cluster: TestRedisCluster;
  const opened: Redis[] = [];
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deligo-cluster-tls-'));
    const certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    // One self-signed certificate for 127.0.0.1 serves as every node's certificate and as the CA.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    cluster = await startTestRedisCluster({ dir: path.join(dir, 'nodes'), logger, password: PASSWORD, tls: { certFile, keyFile, caFile: certFile } });
  });
  after(async () => {
    for (const r of opened) r.disconnect();
    await cluster?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const settings = () => {
    const target = clusterTarget(cluster.url)!;
    return { REDIS_CLUSTER_NODES: cluster.nodes.join(','), REDIS_CLUSTER_PASSWORD: PASSWORD, REDIS_CLUSTER_TLS: 'true', REDIS_CLUSTER_TLS_CA_FILE: target.auth.caFile! };
  };
  const connect = (url: string, role: 'producer' | 'worker') => {
    const redis = createRedis(url, role, logger);
    opened.push(redis);
    return redis;
  };

  it('the settings travel as one target, and a child process gets them all back', () => {
    const config = loadConfig(settings());
    assert.deepEqual(clusterTarget(config.redisUrl!)!.auth, { password: PASSWORD, tls: true, caFile: settings().REDIS_CLUSTER_TLS_CA_FILE });
    assert.deepEqual(redisEnv(config.redisUrl!), settings());
  });

  it('commands across every slot and a BullMQ job run over TLS with the password', async () => {
    const config = loadConfig(settings());
    const redis = connect(config.redisUrl!, 'producer');
    await waitForRedis(redis, 20_000);
    const keys = Array.from({ length: 30 }, (_, i) => `cred:{k${i}}`);
    for (const [i, key] of keys.entries()) await redis.set(key, String(i));
    assert.deepEqual(await Promise.all(keys.map((k) => redis.get(k))), keys.map((_, i) => String(i)));

    const queue = new Queue('{cred}', { connection: redis, prefix: 'cred' });
    // Read the queue's events from the start of its stream, not from '$': BullMQ's waitUntilFinished
    // checks the job once, then trusts the events, and on a busy machine the job can finish between
    // that check and the first XREAD, whose '$' would then never show it.
    const events = new QueueEvents('{cred}', { connection: connect(config.redisUrl!, 'worker'), prefix: 'cred', lastEventId: '0' });
    const worker = new Worker('{cred}', async (job) => `done ${job.data.n}`, { connection: connect(config.redisUrl!, 'worker'), prefix: 'cred' });
    try {
      await events.waitUntilReady();
      const job = await queue.add('hello', { n: 7 });
      assert.equal(await job.waitUntilFinished(events, 60_000), 'done 7');
    } finally {
      await worker.close();
      await events.close();
      await queue.close();
    }
  });

  it('without the password the nodes refuse, and the error says so', async () => {
    const { REDIS_CLUSTER_PASSWORD: _, ...noPassword } = settings();
    const redis = connect(loadConfig(noPassword).redisUrl!, 'producer');
    const refused = await new Promise<string>((resolve) => {
      redis.on('error', (err: Error) => resolve(err.message));
      redis.on('node error', (err: Error) => resolve(err.message));
    });
    assert.match(refused, /NOAUTH|WRONGPASS|Authentication|Failed to refresh slots cache/i);
  });
});
