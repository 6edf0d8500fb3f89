import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Follows the `completed` events of `dispatch.match` jobs from now on: every finished match reports
 * how long it waited in the queue and how long it took (dispatch/matcher.ts: its return value).
 * Read from the queue's event stream twice a second, all new events in one XREAD (a QueueEvents
 * listener's blocking reads came back with a few events each: hundreds of round trips a second
 * charged to the bench and Redis). The stream keeps ~10,000 events, many seconds of a hot spot's
 * ~2,000 a second. `stop` reads what is left and ends the loop.
 */
export async function followMatchEvents(redis: Redis, eventsKey: string) {
  const queued: number[] = [];
  const took: number[] = [];
  // Each step of a match (dispatch/matcher.ts: MatchStep), over the matches that took it.
  const steps = new Map<string, number[]>();
  let lastEvent = ((await redis.xrevrange(eventsKey, '+', '-', 'COUNT', 1))[0]?.[0] as string | undefined) ?? '0';
  const readEvents = async () => {
    const reply = (await redis.xread('COUNT', 50_000, 'STREAMS', eventsKey, lastEvent)) as Array<[string, Array<[string, string[]]>]> | null;
    for (const [id, fields] of reply?.[0]?.[1] ?? []) {
      lastEvent = id;
      if (fields[1] !== 'completed') continue;
      const field = (name: string) => fields[fields.indexOf(name) + 1];
      const jobId = field('jobId') ?? '';
      let r: { queuedMs?: number; tookMs?: number; steps?: Record<string, number> } | null = null;
      try {
        r = JSON.parse(field('returnvalue') ?? 'null');
      } catch {}
      if (typeof r?.tookMs !== 'number') continue;
      took.push(r.tookMs);
      for (const [name, ms] of Object.entries(r.steps ?? {})) (steps.get(name) ?? steps.set(name, []).get(name)!).push(ms);
      // The first match of each order: its queue time is not a deliberate retry delay.
      if (/^match-.*-r1$/.test(jobId)) queued.push(r.queuedMs!);
    }
  };
  let listening = true;
  const loop = (async () => {
    while (listening) {
      await readEvents().catch(() => {});
      await sleep(500);
    }
    await readEvents().catch(() => {});
  })();
  return {
    queued,
    took,
    steps,
    async stop() {
      listening = false;
      await loop;
    },
  };
}
