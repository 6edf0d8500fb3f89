import type { Redis } from 'ioredis';
import { classifyRider, GONE_MS, type MapRider } from '../../domain/ops-map/fleet-view.ts';
import { createFleetIndex } from '../../location/fleet-index.ts';
import { FRESH_MS } from '../../location/live-location.ts';
import { locationKeys } from '../../location/keys.ts';

/**
 * Touches are stamped with the writer's clock and land a moment after it read it, so each read
 * looks this far back past the previous one: a change is then never missed, at the price of
 * reading some riders twice.
 */
const SLACK_MS = 2_000;
/** The index is pruned of riders gone from the map this often (the location sweep does it too). */
const PRUNE_MS = 60_000;
/** Live state is read in pipelines of this many riders, so a 50,000-rider fleet is not one giant reply. */
const CHUNK = 5_000;

export interface FleetReader {
  /** Every rider worth drawing, keyed by id. Riders that did not change are the same objects as last time. */
  read(now: number): Promise<Map<string, MapRider>>;
}

interface Known {
  status: string;
  lat: number;
  lng: number;
  recordedAt: number;
  heading: number | null;
  /** What was drawn last, reused while nothing about it changes. */
  drawn?: MapRider;
}

/**
 * The fleet as the ops map sees it. The first read lists every rider touched in the last hour from
 * the fleet index (location/fleet-index.ts) and reads each one's live state; every later read
 * fetches only the riders touched since, and re-colours the rest (a rider turns stale by staying
 * silent, which writes nothing). The reader lives as long as the API process, so a map opened
 * again later catches up from where the last one stopped instead of reading the fleet again.
 */
export function createFleetReader(redis: Redis, prefix: string): FleetReader {
  const keys = locationKeys(prefix);
  const index = createFleetIndex(redis, keys);
  const known = new Map<string, Known>();
  let readAt: number | undefined;
  let prunedAt = 0;

  async function fetch(ids: string[]): Promise<void> {
    for (let from = 0; from < ids.length; from += CHUNK) {
      const chunk = ids.slice(from, from + CHUNK);
      const pipeline = redis.pipeline();
      for (const id of chunk) pipeline.hmget(keys.rider(id), 'status', 'lat', 'lng', 'recordedAt', 'heading');
      const replies = (await pipeline.exec()) ?? [];
      chunk.forEach((id, i) => {
        const [err, reply] = replies[i] ?? [null, null];
        if (err) throw err;
        const [status, lat, lng, recordedAt, heading] = (reply as Array<string | null>) ?? [];
        if (lat == null || lng == null || recordedAt == null) {
          known.delete(id); // expired, or a status without a position yet
          return;
        }
        const before = known.get(id);
        const next: Known = { status: status ?? 'offline', lat: Number(lat), lng: Number(lng), recordedAt: Number(recordedAt), heading: heading == null || heading === '' ? null : Number(heading) };
        if (before && before.status === next.status && before.recordedAt === next.recordedAt && before.lat === next.lat && before.lng === next.lng) return;
        known.set(id, next);
      });
    }
  }

  return {
    async read(now) {
      if (now - prunedAt >= PRUNE_MS) {
        await index.prune(now - GONE_MS);
        prunedAt = now;
      }
      const since = readAt === undefined ? now - GONE_MS : readAt - SLACK_MS;
      await fetch(await index.touchedSince(since));
      readAt = Math.max(readAt ?? 0, now);
      const out = new Map<string, MapRider>();
      for (const [id, rider] of known) {
        const status = classifyRider(rider, now, FRESH_MS);
        if (!status) {
          if (now - rider.recordedAt > GONE_MS) known.delete(id);
          continue;
        }
        if (rider.drawn?.status !== status) rider.drawn = { id, lat: rider.lat, lng: rider.lng, status, heading: rider.heading, at: rider.recordedAt };
        out.set(id, rider.drawn);
      }
      return out;
    },
  };
}
