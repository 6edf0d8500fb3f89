import { Worker } from 'bullmq';
import { decodeJwt } from 'jose';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDuration } from '../cli/commands/jobs-replay.ts';
import { createDb } from '../db/knex.ts';
import { QUEUES } from '../runtime/queue-registry.ts';
import { verifyToken } from '../runtime/tokens.ts';
import { createTestPlatform, eventually, testUrls, type TestPlatform } from './support/services.ts';

const root = path.resolve(import.meta.dirname, '..');
const SECRET = 'cli-test-secret-with-at-least-32-characters';

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs the real `bin/deligo.js` in a child process, as `npx deligo` would. */
function deligo(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = { ...process.env };
  // Only what a test passes reaches the CLI, never a developer's own settings or `npm start`.
  for (const key of ['REDIS_URL', 'DATABASE_URL', 'QUEUE_PREFIX', 'LOG_LEVEL', 'JWT_SECRET', 'JWT_TTL']) delete base[key];
  const child = spawn(process.execPath, ['bin/deligo.js', ...args], {
    cwd: root,
    env: { ...base, NODE_ENV: 'test', DATA_DIR: emptyDataDir, JWT_SECRET: SECRET, ...env },
  });
  const run: Run = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (run.stdout += d));
  child.stderr.on('data', (d) => (run.stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ ...run, code })));
}

/** A user error is one line on stderr, never a stack trace. */
function assertOneLineError(run: Run, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, run.stderr);
  assert.match(run.stderr, /^deligo: [^\n]+\n$/);
  assert.match(run.stderr, pattern);
  assert.equal(run.stdout, '');
}

let emptyDataDir: string;
before(async () => void (emptyDataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'deligo-cli-'))));
after(() => fs.rm(emptyDataDir, { recursive: true, force: true }));

describe('deligo token', () => {
  it('prints only a token that verifies with the sub and role asked for', async () => {
    const run = await deligo(['token', '--role', 'admin', '--sub', 'ops']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.match(run.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    assert.deepEqual(await verifyToken(run.stdout.trim(), SECRET), { sub: 'ops', role: 'admin' });
  });

  it('honours --ttl', async () => {
    const run = await deligo(['token', '--role', 'rider', '--sub', 'r-1', '--ttl', '30m']);
    const claims = decodeJwt(run.stdout.trim());
    assert.equal(claims.exp! - claims.iat!, 30 * 60);
  });

  it('rejects an unknown role with exit code 2 and one line', async () => {
    const run = await deligo(['token', '--role', 'boss', '--sub', 'ops']);
    assertOneLineError(run, 2, /'boss' is invalid.*customer, rider, restaurant, admin/);
  });
});

describe('deligo jobs', () => {
  let p: TestPlatform;
  let env: Record<string, string>;
  const failedCount = () => p.queues.get('maintenance').getFailedCount();
  const waiting = async () => (await p.queues.get('maintenance').getWaiting()).map((j) => j.name).sort();

  before(async () => {
    p = await createTestPlatform();
    env = { REDIS_URL: p.urls.redisUrl, DATABASE_URL: p.urls.databaseUrl, QUEUE_PREFIX: p.prefix };
    const queue = p.queues.get('maintenance');
    const names = ['maintenance.alpha', 'maintenance.alpha', 'maintenance.beta', 'maintenance.beta', 'maintenance.beta'];
    await queue.addBulk(names.map((name, i) => ({ name, data: { i }, opts: { attempts: 1 } })));
    // Fail them for real, the way a broken handler would.
    const worker = new Worker(QUEUES.maintenance.name, async (job) => { throw new Error(`boom ${job.name}`); }, {
      connection: p.workerConnection(),
      prefix: p.prefix,
    });
    worker.on('error', () => {});
    await eventually(async () => (await failedCount()) === 5, 10_000, '5 failed jobs');
    await worker.close();
  });
  after(() => p.cleanup());

  it('lists the failed jobs', async () => {
    const run = await deligo(['jobs', 'list', '--queue', 'maintenance', '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    const rows = JSON.parse(run.stdout) as Array<{ queue: string; name: string; attemptsMade: number; failedReason: string; timestamp: string }>;
    assert.equal(rows.length, 5);
    assert.deepEqual(rows.map((r) => r.name).sort(), ['maintenance.alpha', 'maintenance.alpha', 'maintenance.beta', 'maintenance.beta', 'maintenance.beta']);
    for (const row of rows) {
      assert.equal(row.queue, 'maintenance');
      assert.equal(row.attemptsMade, 1);
      assert.equal(row.failedReason, `boom ${row.name}`);
      assert.ok(!Number.isNaN(Date.parse(row.timestamp)));
    }
  });

  it('prints a table, accepts tagged names and all, and honours --limit', async () => {
    const table = await deligo(['jobs', 'list', '--queue', '{maintenance}', '--limit', '2'], env);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+NAME\s+ATTEMPTS\s+TIMESTAMP\s+FAILED REASON$/);
    assert.equal(lines.length, 3);
    assert.match(lines[1]!, /boom maintenance\./);
    const all = await deligo(['jobs', 'list', '--queue', 'all', '--json'], env);
    assert.equal(JSON.parse(all.stdout).length, 5);
    const empty = await deligo(['jobs', 'list', '--queue', 'groupOrders', '--state', 'waiting'], env);
    assert.equal(empty.stdout, 'no waiting jobs\n');
  });

  it('rejects an unknown queue with the valid names', async () => {
    const run = await deligo(['jobs', 'replay', '--queue', 'nope'], env);
    assertOneLineError(run, 2, /unknown queue.*location, dispatch, orders, gifts, group-orders, notifications-push/);
  });

  it('--dry-run lists what it would retry and changes nothing', async () => {
    const run = await deligo(['jobs', 'replay', '--queue', 'maintenance', '--dry-run'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /would retry 5, skipped 0, errors 0 \(dry run\)\n$/);
    assert.equal(run.stdout.match(/boom maintenance/g)?.length, 5);
    assert.equal(await failedCount(), 5);
    assert.deepEqual(await waiting(), []);
    const failed = await p.queues.get('maintenance').getFailed();
    assert.deepEqual(failed.map((j) => j.attemptsMade), [1, 1, 1, 1, 1]);
  });

  it('--since leaves out jobs that failed earlier', async () => {
    const failed = await p.queues.get('maintenance').getFailed();
    const newest = Math.max(...failed.map((j) => j.finishedOn!));
    await eventually(() => Date.now() - newest > 1_100, 3_000, 'the failures to be over a second old');
    const run = await deligo(['jobs', 'replay', '--queue', 'maintenance', '--since', '1s', '--dry-run'], env);
    assert.match(run.stdout, /would retry 0, skipped 5, errors 0/);
    const wide = await deligo(['jobs', 'replay', '--queue', 'maintenance', '--since', '1h', '--dry-run'], env);
    assert.match(wide.stdout, /would retry 5, skipped 0, errors 0/);
  });

  it('--name retries only the matching jobs', async () => {
    const run = await deligo(['jobs', 'replay', '--queue', 'maintenance', '--name', 'maintenance.alpha'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'retried 2, skipped 3, errors 0\n');
    assert.deepEqual(await waiting(), ['maintenance.alpha', 'maintenance.alpha']);
    assert.equal(await failedCount(), 3);
  });

  it('--limit caps how many are retried', async () => {
    const run = await deligo(['jobs', 'replay', '--queue', 'maintenance', '--limit', '1'], env);
    assert.equal(run.stdout, 'retried 1, skipped 2, errors 0\n');
    assert.equal(await failedCount(), 2);
  });

  it('without filters retries everything still failed, keeping attemptsMade', async () => {
    const run = await deligo(['jobs', 'replay', '--queue', 'all'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'retried 2, skipped 0, errors 0\n');
    assert.equal(await failedCount(), 0);
    const moved = await p.queues.get('maintenance').getWaiting();
    assert.equal(moved.length, 5);
    assert.ok(moved.every((j) => j.attemptsMade === 1 && !j.failedReason));
  });

  it('without Redis, says how to get one', async () => {
    const none = await deligo(['jobs', 'list', '--queue', 'maintenance']);
    assertOneLineError(none, 1, /no Redis to talk to: run `npm start`.*or set REDIS_URL/);
    const down = await deligo(['jobs', 'list', '--queue', 'maintenance'], { REDIS_URL: 'redis://127.0.0.1:1' });
    assertOneLineError(down, 1, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});

describe('deligo migrate', () => {
  const name = `cli_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = createDb({ url: testUrls().databaseUrl, poolMax: 1 });
  const url = new URL(testUrls().databaseUrl);
  url.pathname = `/${name}`;

  before(() => admin.raw('CREATE DATABASE ??', [name]));
  after(async () => {
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
    await admin.destroy();
  });

  it('applies every migration once; a second run is up to date', async () => {
    const migrations = (await fs.readdir(path.join(root, 'db', 'migrations'))).filter((f) => f.endsWith('.ts')).sort();
    const first = await deligo(['migrate'], { DATABASE_URL: url.href });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, migrations.map((m) => `applied ${m}\n`).join(''));
    const second = await deligo(['migrate'], { DATABASE_URL: url.href });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, 'already up to date\n');
  });
});

describe('parseDuration', () => {
  it('reads s, m, h and d, and rejects anything else', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    for (const bad of ['', '2', 'h', '1.5h', '-1h', '2w']) assert.throws(() => parseDuration(bad), /duration/);
  });
});
