import type { Redis } from 'ioredis';
import type { LocationPoint } from '../domain/location/point.ts';
import { createGeoIndex, type GeoIndex } from './geo-index.ts';
import { locationKeys, type LocationKeys } from './keys.ts';
import { createRecentTrack, type RecentTrack } from './recent-track.ts';
import { FRESH_MS, nearbyModeFor, pipelinedNearby, scriptedNearby, type NearbyQuery, type NearbyRider, type NearbySearchMode } from './nearby-search.ts';
import { createRiderState, type RiderLive, type RiderState, type RiderStatus } from './rider-state.ts';

export { availableAndFresh, FRESH_MS, type NearbyRider } from './nearby-search.ts';

export interface LiveLocationOptions {
  /** How nearby searches Redis (see NearbySearchMode). Default: `nearbyModeFor(redis)`, the script on one Redis, the pipeline on a cluster. */
  nearby?: NearbySearchMode;
}

/** Where every rider is now, who is available, and who is near a place: all in Redis. */
export interface LiveLocation {
  keys: LocationKeys;
  state: RiderState;
  geo: GeoIndex;
  /** Each rider's last minutes of points, for the fraud rules. */
  track: RecentTrack;
  /** Applies a batch of points (any riders, any order); returns the riders whose position moved. */
  apply(points: LocationPoint[]): Promise<LocationPoint[]>;
  setStatus(riderId: string, status: RiderStatus, now: number): Promise<RiderLive | undefined>;
  /** {@link setStatus} for several riders (a matching batch's offered riders): one round trip for their states, one for the geo index. */
  setStatuses(riderIds: readonly string[], status: RiderStatus, now: number): Promise<Array<RiderLive | undefined>>;
  /** Busy → available in one step (RiderState.freeIfBusy), back in the geo index if fresh; undefined when the rider was not busy. */
  freeIfBusy(riderId: string, now: number): Promise<RiderLive | undefined>;
  /** Available riders seen in the last FRESH_MS within the radius, nearest first, at most `limit`. */
  nearby(query: NearbyQuery): Promise<NearbyRider[]>;
  isFresh(rider: RiderLive, now: number): boolean;
}

export function createLiveLocation(redis: Redis, prefix: string, options: LiveLocationOptions = {}): LiveLocation {
  const keys = locationKeys(prefix);
  const state = createRiderState(redis, keys);
  const geo = createGeoIndex(redis, keys);
  const nearby = (options.nearby ?? nearbyModeFor(redis)) === 'script' ? scriptedNearby(redis, keys) : pipelinedNearby(geo, state);
  const track = createRecentTrack(redis, prefix);
  const isFresh = (rider: RiderLive, now: number) => rider.recordedAt >= now - FRESH_MS;
  const setStatuses: LiveLocation['setStatuses'] = async (riderIds, status, now) => {
    const riders = await state.setStatuses(riderIds, status);
    const placed = riders.filter((r): r is RiderLive => Boolean(r?.cell));
    if (status === 'available') {
      await geo.place(placed.filter((r) => isFresh(r, now)).map((r) => ({ riderId: r.riderId, lat: r.lat, lng: r.lng, cell: r.cell, previousCell: '' })));
    } else {
      await Promise.all(placed.map((r) => geo.remove(r.riderId, r.cell)));
    }
    return riders;
  };
  return {
    keys,
    state,
    geo,
    track,
    isFresh,
    async apply(points) {
      const newest = new Map<string, LocationPoint>();
      for (const p of points) {
        const seen = newest.get(p.riderId);
        if (!seen || p.recordedAt > seen.recordedAt) newest.set(p.riderId, p);
      }
      const candidates = [...newest.values()];
      // Watchers hear of a move from the advance itself, as soon as the position is stored.
      const advances = await state.advance(candidates, (p) => [
        keys.updates(p.riderId),
        JSON.stringify({ riderId: p.riderId, lat: p.lat, lng: p.lng, recordedAt: p.recordedAt, speed: p.speed, heading: p.heading }),
      ]);
      const moved = candidates.filter((_, i) => advances[i]!.advanced);
      await geo.place(
        advances
          .filter((a) => a.advanced && a.status === 'available')
          .map((a) => ({ ...a, lat: newest.get(a.riderId)!.lat, lng: newest.get(a.riderId)!.lng })),
      );
      return moved;
    },
    async setStatus(riderId, status, now) {
      return (await setStatuses([riderId], status, now))[0];
    },
    async freeIfBusy(riderId, now) {
      const rider = await state.freeIfBusy(riderId);
      if (rider?.cell && isFresh(rider, now)) await geo.place([{ riderId, lat: rider.lat, lng: rider.lng, cell: rider.cell, previousCell: '' }]);
      return rider;
    },
    setStatuses,
    nearby,
  };
}

