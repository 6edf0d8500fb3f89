/**
 * `npm test`: starts one throwaway Redis and Postgres with the project's own embedded-service
 * code, runs every test file against them (each test takes its own key prefix and schema),
 * stops both, and ends with the `N passed, N failed` line.
 *
 * `npm run test:cluster` (`--cluster`): the same with a 3-master Redis Cluster instead of one
 * Redis, running tests/cluster/ (which the plain run leaves out).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startEmbeddedPostgres } from '../runtime/embedded/postgres-server.ts';
import { startEmbeddedRedis } from '../runtime/embedded/redis-server.ts';
import { createLogger } from '../runtime/logger.ts';
import { startTestRedisCluster } from './support/redis-cluster.ts';

const root = path.resolve(import.meta.dirname, '..');
const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn', name: 'test-run' });
const args = process.argv.slice(2);
const only = args.filter((a) => a !== '--cluster');
const clusterDir = path.join(root, 'tests', 'cluster');
// `npm test -- tests/cluster/x.test.ts` needs the cluster too.
const cluster = args.includes('--cluster') || (only.length > 0 && only.every(isClusterTest));

const files = only.length > 0 ? only : (await findTests(path.join(root, 'tests'))).filter((f) => cluster === isClusterTest(f));
const dataDir = path.join(root, '.data', `test-${process.pid}`);
await fs.rm(dataDir, { recursive: true, force: true });

const started = Date.now();
const redis = cluster
  ? await startTestRedisCluster({ dir: path.join(dataDir, 'redis-cluster'), logger })
  : await startEmbeddedRedis({ dir: path.join(dataDir, 'redis'), logger, ephemeral: true });
const pg = await startEmbeddedPostgres({ dir: path.join(dataDir, 'pg'), logger, ephemeral: true });
logger.info({ ms: Date.now() - started }, 'test services ready');

let code = 1;
try {
  code = await runNodeTests(files, { TEST_REDIS_URL: redis.url, TEST_DATABASE_URL: pg.url, TEST_DATA_DIR: dataDir });
} finally {
  await pg.stop();
  await redis.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
}
process.exit(code);

function runNodeTests(testFiles: string[], env: Record<string, string>): Promise<number> {
  const args = [
    '--import', 'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=300000',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=./tests/support/summary-reporter.mjs', '--test-reporter-destination=stdout',
    ...testFiles,
  ];
  const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env, NODE_ENV: 'test' } });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
}

function isClusterTest(file: string): boolean {
  return path.resolve(root, file).startsWith(clusterDir + path.sep);
}

async function findTests(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}
