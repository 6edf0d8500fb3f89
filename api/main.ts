/** API process: `npm run api` (node with runtime/node-flags.ts). Stateless; run as many as the load needs behind a balancer. */
import { runEntry } from '../runtime/entry.ts';
import { createApp } from './app.ts';
import { listen } from './server.ts';

await runEntry('api', async ({ config, platform, releasers, logger }) => {
  const app = createApp(platform);
  await listen(app, { port: config.http.port, host: config.http.host, logger, releasers });
});
