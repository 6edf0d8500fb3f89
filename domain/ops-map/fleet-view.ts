import { cellId, cellOf } from '../location/cells.ts';
import type { LatLng } from '../location/geo.ts';

/**
 * What the ops map draws, reduced from live state by pure functions: each rider's colour, the
 * per-cell density, and the change between two frames, so the stream sends only what moved.
 */

/** How a rider is drawn. `stale`: no point for longer than the freshness window. */
export type MapRiderStatus = 'available' | 'busy' | 'offline' | 'stale';

export interface MapRider {
  id: string;
  lat: number;
  lng: number;
  status: MapRiderStatus;
  heading: number | null;
  /** Epoch ms of the position. */
  at: number;
}

export interface MapOrder {
  id: string;
  status: string;
  riderId: string | null;
  restaurant: LatLng & { name: string };
  dropoff: LatLng;
}

export interface CellDensity {
  id: string;
  /** South-west corner and size in degrees, so the page draws the cell without knowing the grid. */
  south: number;
  west: number;
  dLat: number;
  dLng: number;
  riders: number;
  orders: number;
}

/** Riders not heard from in this long leave the map altogether (their live state lasts a day). */
export const GONE_MS = 60 * 60_000;

/**
 * The colour of a rider: available or busy while fresh, `stale` once an on-duty rider has been
 * silent for `freshMs`, `offline` for riders off duty (counted, not drawn).
 * Returns undefined for riders gone longer than {@link GONE_MS} or never positioned.
 */
export function classifyRider(
  rider: { status: string; lat: number; lng: number; recordedAt: number },
  now: number,
  freshMs: number,
): MapRiderStatus | undefined {
  if (!Number.isFinite(rider.lat) || !Number.isFinite(rider.lng) || rider.recordedAt <= 0) return undefined;
  const age = now - rider.recordedAt;
  if (age > GONE_MS) return undefined;
  // Off duty is not "stale": silence is what offline riders are expected to do.
  if (rider.status !== 'available' && rider.status !== 'busy') return 'offline';
  return age > freshMs ? 'stale' : rider.status;
}

const CELL_LAT_DEG = 0.01;
const CELL_LNG_DEG = 0.0125;

/**
 * Riders on duty (available or busy, not stale) and active orders (by their restaurant, where
 * demand starts) per geo-index cell. Only cells with something in them are returned.
 */
export function densityByCell(riders: readonly MapRider[], orders: readonly MapOrder[]): CellDensity[] {
  // Keyed by a number, not the cell id: at 50,000 riders a frame, a string per rider is most of the cost.
  const cells = new Map<number, CellDensity>();
  const bump = (lat: number, lng: number, field: 'riders' | 'orders') => {
    const row = Math.floor(lat / CELL_LAT_DEG);
    const col = Math.floor(lng / CELL_LNG_DEG);
    const key = row * 100_000 + col;
    let entry = cells.get(key);
    if (!entry) {
      const cell = cellOf(lat, lng);
      entry = { id: cellId(cell), south: cell.row * CELL_LAT_DEG, west: cell.col * CELL_LNG_DEG, dLat: CELL_LAT_DEG, dLng: CELL_LNG_DEG, riders: 0, orders: 0 };
      cells.set(key, entry);
    }
    entry[field] += 1;
  };
  for (const r of riders) if (r.status === 'available' || r.status === 'busy') bump(r.lat, r.lng, 'riders');
  for (const o of orders) bump(o.restaurant.lat, o.restaurant.lng, 'orders');
  return [...cells.values()].sort((a, b) => b.riders + b.orders - (a.riders + a.orders) || a.id.localeCompare(b.id));
}

export interface FleetDelta {
  changed: MapRider[];
  removed: string[];
}

/** What changed from `before` to `after`: riders that moved, changed colour or appeared, and those that left. */
export function diffFleet(before: ReadonlyMap<string, MapRider>, after: ReadonlyMap<string, MapRider>): FleetDelta {
  const changed: MapRider[] = [];
  for (const [id, rider] of after) {
    const old = before.get(id);
    if (old === rider) continue; // the fleet reader hands back the same object while a rider stays put
    if (!old || old.at !== rider.at || old.status !== rider.status || old.lat !== rider.lat || old.lng !== rider.lng) changed.push(rider);
  }
  const removed = [...before.keys()].filter((id) => !after.has(id));
  return { changed, removed };
}

/** The colours in the order a {@link PackedRider} numbers them. */
export const MAP_STATUSES: readonly MapRiderStatus[] = ['available', 'busy', 'stale', 'offline'];

/**
 * Riders as the map's stream sends them: in columns, not one object (or array) per rider, which
 * is what lets a 50,000-rider snapshot be written, sent and parsed quickly. Coordinates are
 * integers in 1e-5° (about 1 m) from `origin`; `status` has one digit per rider, an index into
 * {@link MAP_STATUSES}. About 30 bytes a rider, a third of the objects'.
 */
export interface PackedFleet {
  origin: [lat: number, lng: number];
  ids: string[];
  lat: number[];
  lng: number[];
  status: string;
}

const E5 = 1e5;

export function packFleet(riders: readonly MapRider[]): PackedFleet {
  const origin: [number, number] = riders.length > 0 ? [Math.round(riders[0]!.lat * E5), Math.round(riders[0]!.lng * E5)] : [0, 0];
  const out: PackedFleet = { origin, ids: new Array(riders.length), lat: new Array(riders.length), lng: new Array(riders.length), status: '' };
  const codes: number[] = new Array(riders.length);
  riders.forEach((r, i) => {
    out.ids[i] = r.id;
    out.lat[i] = Math.round(r.lat * E5) - origin[0];
    out.lng[i] = Math.round(r.lng * E5) - origin[1];
    codes[i] = MAP_STATUSES.indexOf(r.status);
  });
  out.status = codes.join('');
  return out;
}

/** The riders of a {@link PackedFleet} back (coordinates rounded to 1e-5°). */
export function unpackFleet(packed: PackedFleet): Array<Pick<MapRider, 'id' | 'lat' | 'lng' | 'status'>> {
  return packed.ids.map((id, i) => ({ id, lat: (packed.lat[i]! + packed.origin[0]) / E5, lng: (packed.lng[i]! + packed.origin[1]) / E5, status: MAP_STATUSES[Number(packed.status[i])]! }));
}

/** Counts per colour, for the legend. */
export function countByStatus(riders: Iterable<MapRider>): Record<MapRiderStatus, number> {
  const counts: Record<MapRiderStatus, number> = { available: 0, busy: 0, offline: 0, stale: 0 };
  for (const r of riders) counts[r.status] += 1;
  return counts;
}
