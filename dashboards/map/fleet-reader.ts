import type { Redis } from 'ioredis';
import { classifyRider, GONE_MS, type MapRider } from '../../domain/ops-map/fleet-view.ts';
import { createFleetIndex, type FleetEntry } from '../../location/fleet-index.ts';
import { FRESH_MS } from '../../location/live-location.ts';
import { locationKeys } from '../../location/keys.ts';

/**
 * Touches are stamped with the writer's clock and land a moment after it read it, so each read
 * looks this far back past the previous one: a change is then never missed.
 */
const SLACK_MS = 2_000;
/** The index is pruned of riders gone from the map this often (the location sweep does it too). */
const PRUNE_MS = 60_000;

export interface FleetReader {
  /** Every rider worth drawing, keyed by id. Riders that did not change are the same objects as last time. */
  read(now: number): Promise<Map<string, MapRider>>;
}

interface Known extends FleetEntry {
  /** The index's touch time when this was read (unknown after a whole read), and when it was read. */
  touchedAt?: number;
  readAt: number;
  /** What was drawn last, reused while nothing about it changes. */
  drawn?: MapRider;
}

/**
 * The fleet as the ops map sees it, from the fleet index (location/fleet-index.ts). The first read
 * takes the whole fleet; every later read fetches only the riders touched since, and re-colours
 * the rest (a rider turns stale by staying silent, which writes nothing). The reader lives as
 * long as the API process, so a map opened again later catches up from where the last one
 * stopped instead of reading the fleet again.
 */
export function createFleetReader(redis: Redis, prefix: string): FleetReader {
  const index = createFleetIndex(redis, locationKeys(prefix));
  const known = new Map<string, Known>();
  let readAt: number | undefined;
  let prunedAt = 0;

  function learn(entry: FleetEntry, touchedAt: number | undefined, now: number): void {
    const before = known.get(entry.riderId);
    if (before && before.status === entry.status && before.recordedAt === entry.recordedAt && before.lat === entry.lat && before.lng === entry.lng) {
      before.touchedAt = touchedAt;
      before.readAt = now;
      return;
    }
    // Every field written here, in one order: 50,000 objects of one shape keep the frame loop fast.
    known.set(entry.riderId, { riderId: entry.riderId, status: entry.status, lat: entry.lat, lng: entry.lng, recordedAt: entry.recordedAt, heading: entry.heading, touchedAt, readAt: now, drawn: undefined });
  }

  /**
   * Riders touched since the last read, less those already read at that same touch. A touch is
   * read again while it was younger than the slack when read: a second write could have carried
   * the same millisecond and landed after that read.
   */
  async function readTouched(since: number, now: number): Promise<void> {
    const touched = (await index.touchedSince(since)).filter(([id, touchedAt]) => {
      const seen = known.get(id);
      return !seen || seen.touchedAt !== touchedAt || touchedAt >= seen.readAt - SLACK_MS;
    });
    const when = new Map(touched);
    const found = await index.read(touched.map(([id]) => id));
    for (const entry of found) learn(entry, when.get(entry.riderId), now);
    // Touched but without a position (pruned, or a status before any point): not drawn.
    if (found.length < touched.length) {
      const present = new Set(found.map((e) => e.riderId));
      for (const [id] of touched) if (!present.has(id)) known.delete(id);
    }
  }

  return {
    async read(now) {
      if (now - prunedAt >= PRUNE_MS) {
        await index.prune(now - GONE_MS);
        prunedAt = now;
      }
      if (readAt === undefined) for (const entry of await index.readAll()) learn(entry, undefined, now);
      else await readTouched(readAt - SLACK_MS, now);
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
