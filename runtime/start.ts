/**
 * `npm start`: the whole platform in one process for development — embedded Redis and Postgres
 * (unless URLs are given), migrations, every worker pool, the schedulers, the API and Bull Board.
 */
import { createApp } from '../api/app.ts';
import { listen } from '../api/server.ts';
import { BULL_BOARD_PATH } from '../dashboards/bull-board.ts';
import { schedulerDefinitions } from '../schedulers/definitions.ts';
import { syncSchedulers } from '../schedulers/sync.ts';
import { runPools } from '../workers/run-pools.ts';
import { runEntry } from './entry.ts';
import { removeServicesFile, writeServicesFile } from './services.ts';
import { signToken } from './tokens.ts';

await runEntry('start', async ({ config, platform, releasers, logger, urls }) => {
  const pools = await runPools(platform, releasers, config.workerPools);
  await syncSchedulers(platform.queues, schedulerDefinitions(config), logger);
  const { url } = await listen(createApp(platform), { port: config.http.port, host: config.http.host, logger, releasers });
  await writeServicesFile(config.dataDir, { ...urls, apiUrl: url, pid: process.pid });
  releasers.add('services file', () => removeServicesFile(config.dataDir));

  const adminToken = config.env === 'production' ? undefined : await signToken({ sub: 'ops', role: 'admin' }, config.jwt);
  const lines = [
    `deligo is ready in ${process.uptime().toFixed(1)} s`,
    `  API          ${url}`,
    `  Bull Board   ${url}${BULL_BOARD_PATH}   (browser sign-in: ${url}/admin/login)`,
    `  Metrics      ${url}/metrics`,
    `  Redis        ${readable(urls.redisUrl)}${config.redisUrl ? '' : '   (embedded, data in DATA_DIR/redis)'}`,
    `  Postgres     ${readable(urls.databaseUrl.replace(/:[^:@/]+@/, ':***@'))}${config.databaseUrl ? '' : '   (embedded, data in DATA_DIR/pg)'}`,
    `  Pools        ${pools.map((p) => p.name).join(', ')}`,
    `  Schedulers   ${schedulerDefinitions(config).map((s) => s.id).join(', ')}`,
    ...(adminToken ? [`  Admin token  ${adminToken}`, `               curl -H "Authorization: Bearer $TOKEN" ${url}/v1/me`] : []),
    '  Ctrl-C stops everything.',
  ];
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
});

/** A URL for people: the embedded servers' socket paths (`?path=`, `?host=`) unescaped. */
function readable(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}
