import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { keySlot } from './redis-slot.ts';

/**
 * Redis Cluster support in one place. deligo's code is written against one `Redis` client; on a
 * cluster it gets an ioredis `Cluster`, which speaks the same commands. The differences that
 * matter are handled here:
 * - a cluster pipeline must stay on one node, so {@link allowCrossSlotPipelines} splits one per node;
 * - MGET and friends refuse keys of different slots ({@link getEach});
 * - SCAN and CONFIG see one node only ({@link eachMaster}, {@link scanKeys}).
 *
 * Inside deligo a cluster travels as one string, `redis-cluster://host:port,host:port`, in the
 * place a `redis://` URL would (ServiceUrls.redisUrl, the CLI's services file). Users never type
 * it: they set REDIS_CLUSTER_NODES.
 */
export const CLUSTER_SCHEME = 'redis-cluster:';

export interface ClusterNode {
  host: string;
  port: number;
}

/** How deligo authenticates to every node of a cluster, and whether it speaks TLS to them. */
export interface ClusterAuth {
  username?: string;
  password?: string;
  /** TLS to every node; `caFile` names a PEM file of the CA that signed the nodes' certificates. */
  tls?: boolean;
  caFile?: string;
}

/** `redis-cluster://[user:password@]host:port,…[?tls=1&ca=/path]`: a cluster as one string. */
export function clusterUrl(nodes: readonly string[], auth: ClusterAuth = {}): string {
  const credentials = auth.password !== undefined ? `${encodeURIComponent(auth.username ?? '')}:${encodeURIComponent(auth.password)}@` : '';
  const query = new URLSearchParams();
  if (auth.tls) query.set('tls', '1');
  if (auth.tls && auth.caFile) query.set('ca', auth.caFile);
  const rest = query.size > 0 ? `?${query}` : '';
  return `${CLUSTER_SCHEME}//${credentials}${nodes.join(',')}${rest}`;
}

/** The seed nodes and credentials of a `redis-cluster://` target, or undefined for a `redis://` URL. */
export function clusterTarget(url: string): { nodes: ClusterNode[]; auth: ClusterAuth } | undefined {
  if (!url.startsWith(`${CLUSTER_SCHEME}//`)) return undefined;
  let rest = url.slice(CLUSTER_SCHEME.length + 2);
  const auth: ClusterAuth = {};
  const q = rest.indexOf('?');
  if (q >= 0) {
    const query = new URLSearchParams(rest.slice(q + 1));
    rest = rest.slice(0, q);
    if (query.get('tls') === '1') auth.tls = true;
    if (query.get('ca')) auth.caFile = query.get('ca')!;
  }
  // A password may hold any character once encoded; the nodes after the last `@` never hold one.
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const [user, password = ''] = rest.slice(0, at).split(':');
    if (user) auth.username = decodeURIComponent(user);
    auth.password = decodeURIComponent(password);
    rest = rest.slice(at + 1);
  }
  const nodes = rest
    .split(',')
    .filter(Boolean)
    .map((node) => {
      const colon = node.lastIndexOf(':');
      return { host: node.slice(0, colon), port: Number(node.slice(colon + 1)) };
    });
  return { nodes, auth };
}

/** The seed nodes of a `redis-cluster://` target, or undefined for a single-node `redis://` URL. */
export function clusterNodes(url: string): ClusterNode[] | undefined {
  return clusterTarget(url)?.nodes;
}

/** The environment that points a child process at the same Redis, credentials included. */
export function redisEnv(url: string): Record<string, string> {
  const target = clusterTarget(url);
  if (!target) return { REDIS_URL: url };
  const { nodes, auth } = target;
  return {
    REDIS_CLUSTER_NODES: nodes.map((n) => `${n.host}:${n.port}`).join(','),
    ...(auth.username !== undefined && { REDIS_CLUSTER_USERNAME: auth.username }),
    ...(auth.password !== undefined && { REDIS_CLUSTER_PASSWORD: auth.password }),
    ...(auth.tls && { REDIS_CLUSTER_TLS: 'true' }),
    ...(auth.caFile && { REDIS_CLUSTER_TLS_CA_FILE: auth.caFile }),
  };
}

export function isCluster(redis: Redis): boolean {
  return (redis as Redis & { isCluster?: boolean }).isCluster === true;
}

/** Each master's own connection on a cluster; the connection itself on a single node. */
export function eachMaster(redis: Redis): Redis[] {
  return isCluster(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
}

/** Every key matching `pattern`, in batches, from every master (each holds only its own slots). */
export async function* scanKeys(redis: Redis, pattern: string, count: number): AsyncGenerator<string[]> {
  for (const node of eachMaster(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

/** GET of many keys: one MGET on a single node; on a cluster, where the keys span slots, pipelined GETs. */
export async function getEach(redis: Redis, keys: readonly string[]): Promise<Array<string | null>> {
  if (keys.length === 0) return [];
  if (!isCluster(redis)) return redis.mget(...keys);
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.get(key);
  return ((await pipeline.exec()) ?? []).map(([err, value]) => {
    if (err) throw err;
    return value as string | null;
  });
}

/**
 * Lets `redis.pipeline()` on a cluster connection take keys of any slots, as it does on one node:
 * the commands are grouped by the node that serves their slot, each group goes as one pipeline
 * to its node (all at once), and the replies come back in the order the commands were made.
 * Commands are grouped by their first argument, which is the key for every command deligo
 * pipelines (a PUBLISH channel is no key, and any node accepts it). Each command stays atomic on
 * its own; a pipeline never was a transaction. On a single node it changes nothing.
 *
 * Only for deligo's own connection: BullMQ's connections keep ioredis' pipelines untouched.
 */
export function allowCrossSlotPipelines(redis: Redis): Redis {
  if (!isCluster(redis)) return redis;
  const cluster = redis as unknown as Cluster;
  const single = cluster.pipeline.bind(cluster);
  const nodeOf = (key: unknown): string => {
    const slot = keySlot(String(key));
    // Before the slot map is known (or while it moves), one group per slot is still correct.
    return cluster.slots[slot]?.[0] ?? `slot:${slot}`;
  };
  const split = (): ChainableCommander => {
    const calls: Array<{ name: string; args: unknown[] }> = [];
    const exec = async (): Promise<Array<[Error | null, unknown]>> => {
      const groups = new Map<string, number[]>();
      calls.forEach((call, i) => {
        const node = nodeOf(call.args[0]);
        const group = groups.get(node);
        if (group) group.push(i);
        else groups.set(node, [i]);
      });
      const replies = new Array<[Error | null, unknown]>(calls.length);
      await Promise.all(
        [...groups.values()].map(async (indexes) => {
          const pipeline = single() as unknown as Record<string, (...args: unknown[]) => unknown> & ChainableCommander;
          for (const i of indexes) pipeline[calls[i]!.name]!(...calls[i]!.args);
          const results = (await pipeline.exec()) ?? [];
          indexes.forEach((i, j) => (replies[i] = results[j] ?? [new Error('no reply'), null]));
        }),
      );
      return replies;
    };
    const recorder: ChainableCommander = new Proxy({} as ChainableCommander, {
      get(_, name) {
        if (name === 'exec') return exec;
        if (name === 'length') return calls.length;
        // Not a thenable: `await pipeline` must not call anything.
        if (typeof name !== 'string' || name === 'then') return undefined;
        return (...args: unknown[]) => {
          calls.push({ name, args });
          return recorder;
        };
      },
    });
    return recorder;
  };
  Object.defineProperty(cluster, 'pipeline', { value: (commands?: unknown[][]) => (commands ? single(commands) : split()), configurable: true, writable: true });
  return redis;
}
