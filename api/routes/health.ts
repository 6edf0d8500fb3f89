import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { lastHeartbeat } from '../../db/heartbeats-repository.ts';
import { defineRoute } from '../route.ts';

/** Liveness and readiness: `/readyz` fails (503) while Redis or Postgres cannot be reached. */
export function healthRoutes(deps: { redis: Redis; db: Knex }) {
  return [
    defineRoute({ method: 'get', path: '/healthz', handler: () => ({ body: { status: 'ok' } }) }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      async handler() {
        const [redis, postgres] = await Promise.all([
          probe(() => deps.redis.ping()),
          probe(() => deps.db.raw('SELECT 1')),
        ]);
        const heartbeat = postgres.ok ? await lastHeartbeat(deps.db, 'heartbeat').catch(() => undefined) : undefined;
        const ready = redis.ok && postgres.ok;
        return {
          status: ready ? 200 : 503,
          body: {
            status: ready ? 'ready' : 'unavailable',
            checks: { redis, postgres },
            // Informational: when the scheduled heartbeat last went through scheduler → queue → worker.
            lastHeartbeatAt: heartbeat?.toISOString() ?? null,
          },
        };
      },
    }),
  ];
}

async function probe(check: () => Promise<unknown>): Promise<{ ok: boolean; ms: number; error?: string }> {
  const started = Date.now();
  try {
    await withTimeout(check(), 1_500);
    return { ok: true, ms: Date.now() - started };
  } catch (err) {
    return { ok: false, ms: Date.now() - started, error: (err as Error).message };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))),
  ]);
}
