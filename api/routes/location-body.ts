import { z } from 'zod';

/** Raw points are kept 24 h, so older ones have nowhere to go. */
const RAW_RETENTION_MS = 24 * 3600 * 1000;
const FUTURE_SKEW_MS = 30_000;
const MAX_POINTS = 500;

const recordedAt = z.iso.datetime({ offset: true, error: 'an ISO-8601 time with an offset, e.g. 2026-11-23T12:00:00+09:00' });

const point = z.object({
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
  recordedAt,
  speed: z.number().min(0).max(150, 'at most 150 m/s').nullish(),
  heading: z.number().min(0).max(360).nullish(),
  accuracy: z.number().min(0).max(100_000).nullish(),
  mocked: z.boolean().optional(),
});

/** `POST /v1/riders/me/locations`: 1–500 points, each judged against the server's clock. */
export const locationBody = z.object({
  points: z
    .array(point)
    .min(1, 'at least one point')
    .max(MAX_POINTS, 'at most 500 points per request')
    .superRefine((points, ctx) => {
      // Judged against the server's clock at the edge; the ack must never promise what history cannot keep.
      const now = Date.now();
      points.forEach((p, i) => {
        const at = Date.parse(p.recordedAt);
        if (at > now + FUTURE_SKEW_MS) ctx.addIssue({ code: 'custom', path: [i, 'recordedAt'], message: 'more than 30 s in the future' });
        if (at < now - RAW_RETENTION_MS) ctx.addIssue({ code: 'custom', path: [i, 'recordedAt'], message: 'older than the 24 h raw retention window' });
      });
    }),
});

export type LocationBody = z.output<typeof locationBody>;
type Point = LocationBody['points'][number];

/** The very pattern zod checks `recordedAt` against, so both paths agree on what a time is. */
const DATETIME: RegExp = recordedAt._zod.def.pattern!;

const OPTIONAL_NUMBERS = [
  ['speed', 150],
  ['heading', 360],
  ['accuracy', 100_000],
] as const;

/**
 * The common case of `locationBody`, checked by hand: a rider's every fix passes through here,
 * and zod costs more than the rest of the request's own work. It returns what `locationBody`
 * would return for a body it accepts, and undefined for anything else, including every body it
 * is unsure about; the route then runs `locationBody`, which names every wrong field. So it may
 * only ever accept what `locationBody` accepts (tests/location-body.test.ts compares them).
 */
export function quickLocationBody(raw: unknown, now = Date.now()): LocationBody | undefined {
  if (!isPlainObject(raw)) return undefined;
  const points = raw.points;
  if (!Array.isArray(points) || points.length < 1 || points.length > MAX_POINTS) return undefined;
  const out: Point[] = new Array(points.length);
  for (let i = 0; i < points.length; i++) {
    const p: unknown = points[i];
    if (!isPlainObject(p)) return undefined;
    const { lat, lng, recordedAt: at, mocked } = p;
    if (typeof lat !== 'number' || !(lat >= -90 && lat <= 90)) return undefined;
    if (typeof lng !== 'number' || !(lng >= -180 && lng <= 180)) return undefined;
    if (typeof at !== 'string' || !DATETIME.test(at)) return undefined;
    const time = Date.parse(at);
    if (!(time <= now + FUTURE_SKEW_MS && time >= now - RAW_RETENTION_MS)) return undefined;
    // zod's output holds the known keys that were given, in schema order, and drops the rest.
    const parsed: Point = { lat, lng, recordedAt: at };
    for (const [key, max] of OPTIONAL_NUMBERS) {
      if (!(key in p)) continue;
      const value = p[key];
      if (value === null || value === undefined) parsed[key] = value;
      else if (typeof value === 'number' && value >= 0 && value <= max) parsed[key] = value;
      else return undefined;
    }
    if ('mocked' in p) {
      if (mocked === undefined || typeof mocked === 'boolean') parsed.mocked = mocked;
      else return undefined;
    }
    out[i] = parsed;
  }
  return { points: out };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
