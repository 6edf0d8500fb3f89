import { createServer, type Server } from 'node:http';
import { withFastLane } from './fast-lane.ts';
import type { Express } from 'express';
import type { Logger } from '../runtime/logger.ts';
import type { Releasers } from '../runtime/shutdown.ts';

/** Listens, and registers a releaser that stops taking connections and drains the open ones. */
export async function listen(app: Express, options: { port: number; host: string; logger: Logger; releasers: Releasers }): Promise<{ server: Server; url: string }> {
  // The fast lane (api/fast-lane.ts) sees each request before Express does.
  const server = createServer(withFastLane(app));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // An idle keep-alive connection stays open longer than a load balancer's or an app's own idle
  // timeout (60 s on the common ones), so it is the client that closes it: a server that closes
  // first races the client's next request on that socket, which then dies with ECONNRESET (seen
  // once in 22,500 orders at 500/s with Node's 5 s). Shutdown is not held hostage: closeServer
  // drops idle connections at once and cuts the rest after 5 s.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  options.releasers.add('http server', () => closeServer(server));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  const url = `http://${host}:${port}`;
  options.logger.info({ url }, 'api listening');
  return { server, url };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    // Whatever is still open after a grace period is cut, so workers can start closing.
    setTimeout(() => server.closeAllConnections(), 5_000).unref();
  });
}
