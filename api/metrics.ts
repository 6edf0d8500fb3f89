import type { Request, RequestHandler, Response } from 'express';
import client from 'prom-client';
import type { QueueSet } from '../runtime/queues.ts';

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;

export interface ApiMetrics {
  /** Records one finished request by method, route pattern and status (see `requestLogging`). */
  observe(req: Request, res: Response, seconds: number): void;
  /** The same, for a request answered outside Express (api/fast-lane.ts). */
  observeRoute(method: string, route: string, status: number, seconds: number): void;
  /** Records one group-commit batch (runtime/group-commit.ts `onBatch`) of the writer `name`. */
  observeGroupCommit(name: string, batch: { size: number; waitedMs: number; tookMs: number }): void;
  /** Serves the Prometheus text format. */
  handler: RequestHandler;
}

/**
 * HTTP latency, queue depth per state (read from Redis at scrape time, so it is fleet-wide)
 * and the process's own metrics, including job durations when workers share this process.
 */
export function createMetrics(queues: QueueSet): ApiMetrics {
  const own = new client.Registry();
  client.collectDefaultMetrics({ register: own, prefix: 'deligo_api_' });
  const http = new client.Histogram({
    name: 'deligo_http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [own],
  });
  new client.Gauge({
    name: 'deligo_queue_jobs',
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'] as const,
    registers: [own],
    async collect() {
      this.reset();
      await Promise.all(
        // One series per BullMQ queue: each shard of the location queue is labelled `location-N`.
        queues.all().map(async ({ label, queue }) => {
          const counts = await queue.getJobCounts(...JOB_STATES).catch(() => undefined);
          if (!counts) return;
          for (const state of JOB_STATES) this.set({ queue: label, state }, counts[state] ?? 0);
        }),
      );
    },
  });
  // How many writes share a commit, how long a batch waited for a free slot and how long its
  // statement (and commit) took: the three figures that decide an order's latency under load.
  const groupSize = new client.Histogram({ name: 'deligo_group_commit_size', help: 'Writes per group-commit batch', labelNames: ['name'] as const, buckets: [1, 2, 5, 10, 20, 50, 100], registers: [own] });
  const groupWait = new client.Histogram({ name: 'deligo_group_commit_wait_seconds', help: 'Time the oldest write of a batch waited for the batch to start', labelNames: ['name'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25], registers: [own] });
  const groupTook = new client.Histogram({ name: 'deligo_group_commit_seconds', help: 'Time a group-commit batch took to run and commit', labelNames: ['name'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25], registers: [own] });
  const registry = client.Registry.merge([own, client.register]);
  const children = new Map<string, { observe(value: number): void }>();
  const observeRoute = (method: string, route: string, status: number, seconds: number) => {
    const key = `${method} ${route} ${status}`;
    // One histogram child per label set, looked up once: this runs on every rider fix.
    let child = children.get(key);
    if (!child) {
      child = http.labels(method, route, String(status));
      children.set(key, child);
    }
    child.observe(seconds);
  };
  return {
    observe(req, res, seconds) {
      // The route pattern, not the raw URL, keeps label cardinality bounded.
      observeRoute(req.method, req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched', res.statusCode, seconds);
    },
    observeRoute,
    observeGroupCommit(name, batch) {
      groupSize.observe({ name }, batch.size);
      groupWait.observe({ name }, batch.waitedMs / 1_000);
      groupTook.observe({ name }, batch.tookMs / 1_000);
    },
    async handler(_req, res) {
      res.type(registry.contentType).send(await registry.metrics());
    },
  };
}
