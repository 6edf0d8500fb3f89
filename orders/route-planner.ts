import { haversineMeters, type LatLng } from '../domain/location/geo.ts';
import { DEFAULT_SPEED_MPS, DETOUR_FACTOR } from '../domain/orders/quote.ts';
import type { Logger } from '../runtime/logger.ts';

/** One leg by road: how far, how long, and the line to draw for the rider ([lat, lng] pairs). */
export interface PlannedRoute {
  /** `osrm` when the routing engine answered; `straight-line` when it is not configured or failed. */
  source: 'osrm' | 'straight-line';
  distanceMeters: number;
  durationSeconds: number;
  geometry: Array<[number, number]>;
}

export interface RoutePlanner {
  /** True when a routing engine is configured (otherwise every route is a straight line). */
  readonly routed: boolean;
  /** The road route, or undefined when no engine is configured or it failed: callers fall back. */
  road(from: LatLng, to: LatLng): Promise<PlannedRoute | undefined>;
  /** The road route, or the straight-line estimate in its place. */
  route(from: LatLng, to: LatLng, speedMps?: number): Promise<PlannedRoute>;
}

export interface RoutePlannerOptions {
  /** OSRM's base URL (`http://osrm:5000`); unset means straight lines only. */
  osrmUrl?: string;
  /** How long one OSRM request may take before the straight line is used instead. */
  timeoutMs: number;
  logger: Logger;
  fetch?: typeof fetch;
}

/** The straight-line estimate: distance × detour factor at `speedMps`, drawn as the two end points. */
export function straightLineRoute(from: LatLng, to: LatLng, speedMps = DEFAULT_SPEED_MPS): PlannedRoute {
  const distanceMeters = haversineMeters(from, to) * DETOUR_FACTOR;
  return { source: 'straight-line', distanceMeters: Math.round(distanceMeters), durationSeconds: Math.round(distanceMeters / speedMps), geometry: [[from.lat, from.lng], [to.lat, to.lng]] };
}

/**
 * Routes through OSRM's HTTP API (`/route/v1/driving/{lng},{lat};{lng},{lat}`) when `osrmUrl` is
 * set. A slow, failing or unroutable answer never delays an ETA or a rider's screen for long: after
 * `timeoutMs` the straight-line estimate stands in, and the failure is logged (at most once a minute).
 */
export function createRoutePlanner(options: RoutePlannerOptions): RoutePlanner {
  const doFetch = options.fetch ?? fetch;
  const base = options.osrmUrl?.replace(/\/+$/, '');
  let lastWarned = 0;
  const warn = (err: unknown) => {
    if (Date.now() - lastWarned < 60_000) return;
    lastWarned = Date.now();
    options.logger.warn({ err: (err as Error).message, osrm: base }, 'routing engine failed; using straight-line estimates');
  };
  const road = async (from: LatLng, to: LatLng): Promise<PlannedRoute | undefined> => {
    if (!base) return undefined;
    try {
      const url = `${base}/route/v1/driving/${from.lng},${from.lat};${to.lng},${to.lat}?overview=full&geometries=geojson&steps=false`;
      const res = await doFetch(url, { signal: AbortSignal.timeout(options.timeoutMs) });
      const body = (await res.json()) as OsrmResponse;
      const best = body.routes?.[0];
      if (!res.ok || body.code !== 'Ok' || !best) throw new Error(`OSRM answered ${res.status} ${body.code ?? ''} ${body.message ?? ''}`.trim());
      const coordinates = best.geometry?.coordinates ?? [];
      if (!Number.isFinite(best.duration) || !Number.isFinite(best.distance) || coordinates.length < 2) throw new Error('OSRM answered a route without duration, distance or geometry');
      return {
        source: 'osrm',
        distanceMeters: Math.round(best.distance),
        durationSeconds: Math.round(best.duration),
        geometry: coordinates.map(([lng, lat]) => [lat, lng] as [number, number]),
      };
    } catch (err) {
      warn(err);
      return undefined;
    }
  };
  return {
    routed: Boolean(base),
    road,
    async route(from, to, speedMps) {
      return (await road(from, to)) ?? straightLineRoute(from, to, speedMps);
    },
  };
}

/** The part of OSRM's route response deligo reads. */
interface OsrmResponse {
  code?: string;
  message?: string;
  routes?: Array<{ distance: number; duration: number; geometry?: { coordinates: Array<[number, number]> } }>;
}
