import type { Redis } from 'ioredis';
import { classifyRider, type MapRider } from '../../domain/ops-map/fleet-view.ts';
import { FRESH_MS } from '../../location/live-location.ts';
import { locationKeys } from '../../location/keys.ts';
import { createRiderState } from '../../location/rider-state.ts';
import { scanKeys } from '../../runtime/redis-cluster.ts';

/** Rider ids are looked up again this often; positions are read on every frame. */
const RESCAN_MS = 3_000;

export interface FleetReader {
  /** Every rider worth drawing, keyed by id. */
  read(now: number): Promise<Map<string, MapRider>>;
}

/**
 * Reads every rider's live state for the ops map. Live state is one hash per rider and no index
 * lists all of them (the geo cells hold only available riders), so the ids come from a SCAN.
 * That walks the keyspace, which is fine for a page a few people watch: it runs only while the
 * map is open, at most every {@link RESCAN_MS}, and each frame in between is one pipelined read.
 */
export function createFleetReader(redis: Redis, prefix: string): FleetReader {
  const keys = locationKeys(prefix);
  const state = createRiderState(redis, keys);
  const pattern = keys.rider('*');
  const head = keys.rider('');
  const idOf = (key: string) => key.slice(head.length - 1, -1);
  let ids: string[] = [];
  let scannedAt = 0;

  async function scanIds(): Promise<string[]> {
    const found = new Set<string>();
    // On a cluster each master holds its own riders: scanKeys walks every one.
    for await (const batch of scanKeys(redis, pattern, 1_000)) for (const key of batch) found.add(idOf(key));
    return [...found];
  }

  return {
    async read(now) {
      if (now - scannedAt >= RESCAN_MS) {
        ids = await scanIds();
        scannedAt = now;
      }
      const live = await state.getMany(ids);
      const out = new Map<string, MapRider>();
      live.forEach((rider, i) => {
        if (!rider) return;
        const status = classifyRider(rider, now, FRESH_MS);
        if (status) out.set(ids[i]!, { id: ids[i]!, lat: rider.lat, lng: rider.lng, status, heading: rider.heading, at: rider.recordedAt });
      });
      return out;
    },
  };
}
