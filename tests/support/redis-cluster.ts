import fs from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../runtime/embedded/processes.ts';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../runtime/embedded/redis-server.ts';
import type { Logger } from '../../runtime/logger.ts';
import { clusterUrl } from '../../runtime/redis-cluster.ts';
import { SLOTS } from '../../runtime/redis-slot.ts';

export interface TestRedisCluster {
  /** `redis-cluster://127.0.0.1:p1,…`: what ServiceUrls.redisUrl carries for a cluster. */
  url: string;
  /** `127.0.0.1:port` of each master, in slot order (their TLS ports when `tls` was asked). */
  nodes: string[];
  stop(): Promise<void>;
}

/**
 * A throwaway Redis Cluster on loopback: `masters` redis-servers in cluster mode (each its own
 * port, bus port and directory under `dir`, AOF on), the 16384 slots split evenly in order, the
 * nodes introduced with CLUSTER MEET, and ready once every node reports `cluster_state:ok`.
 * No replicas: the tests exercise slots and routing, not failover.
 */
export async function startTestRedisCluster(options: {
  dir: string;
  logger: Logger;
  masters?: number;
  /** Every node asks clients (and its peers) for this password once the cluster is formed. */
  password?: string;
  /** Every node also listens with TLS, and the nodes speak TLS to each other. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}): Promise<TestRedisCluster> {
  const count = options.masters ?? 3;
  const servers: Array<EmbeddedRedis & { port: number; busPort: number; tlsPort: number }> = [];
  const clients: Redis[] = [];
  const stop = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < count; i++) {
      const dir = path.join(options.dir, `node-${i}`);
      await fs.mkdir(dir, { recursive: true });
      const [port, busPort, tlsPort] = [await freePort(), await freePort(), options.tls ? await freePort() : 0];
      // TLS beside the plain port: this harness forms the cluster over the plain one, clients use TLS.
      const tls = options.tls
        ? ['--tls-port', String(tlsPort), '--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile, '--tls-ca-cert-file', options.tls.caFile, '--tls-cluster', 'yes', '--tls-auth-clients', 'no']
        : [];
      const server = await startEmbeddedRedis({
        dir,
        port,
        logger: options.logger,
        ephemeral: true,
        // A bus port of our own: the default (port + 10000) may be taken or beyond 65535.
        extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, 'nodes.conf'), '--cluster-port', String(busPort), '--cluster-node-timeout', '5000', ...tls],
      });
      servers.push({ ...server, port, busPort, tlsPort });
      clients.push(new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 }));
    }
    const per = Math.ceil(SLOTS / count);
    await Promise.all(clients.map((c, i) => c.call('CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(Math.min(SLOTS, (i + 1) * per) - 1))));
    // MEET names the bus port too: without it Redis assumes port + 10000.
    for (const server of servers.slice(1)) await clients[0]!.call('CLUSTER', 'MEET', '127.0.0.1', String(server.port), String(server.busPort));
    await waitForClusterOk(clients);
    if (options.password) {
      // masterauth first: a node must be able to reach its peers once they ask for the password.
      for (const c of clients) await c.config('SET', 'masterauth', options.password);
      for (const c of clients) await c.config('SET', 'requirepass', options.password);
    }
    for (const c of clients) c.disconnect();
    clients.length = 0;
    const nodes = servers.map((s) => `127.0.0.1:${options.tls ? s.tlsPort : s.port}`);
    return { url: clusterUrl(nodes, { password: options.password, tls: Boolean(options.tls), caFile: options.tls?.caFile }), nodes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForClusterOk(clients: Redis[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const infos = await Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO') as Promise<string>));
    // Every node must know every other one and see all slots served before clients connect.
    const ok = infos.every((info) => /cluster_state:ok/.test(info) && new RegExp(`cluster_known_nodes:${clients.length}\\b`).test(info));
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis cluster not ok after ${timeoutMs} ms:\n${infos[0]}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
