import { z } from 'zod';
import type { LocationPoint } from '../../domain/location/point.ts';
import type { LocationIngest } from '../../location/ingest.ts';
import type { LiveLocation } from '../../location/live-location.ts';
import { notFound } from '../errors.ts';
import { defineRoute } from '../route.ts';

/** Raw points are kept 24 h, so older ones have nowhere to go. */
const RAW_RETENTION_MS = 24 * 3600 * 1000;
const FUTURE_SKEW_MS = 30_000;

const point = z.object({
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
  recordedAt: z.iso.datetime({ offset: true, error: 'an ISO-8601 time with an offset, e.g. 2026-11-23T12:00:00+09:00' }),
  speed: z.number().min(0).max(150, 'at most 150 m/s').nullish(),
  heading: z.number().min(0).max(360).nullish(),
  accuracy: z.number().min(0).max(100_000).nullish(),
  mocked: z.boolean().optional(),
});

const locationBody = z.object({
  points: z
    .array(point)
    .min(1, 'at least one point')
    .max(500, 'at most 500 points per request')
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

const riderId = z.object({ id: z.string().min(1).max(128) });

export function riderRoutes(deps: { ingest: LocationIngest; live: LiveLocation }) {
  return [
    defineRoute({
      method: 'put',
      path: '/v1/riders/me/status',
      roles: ['rider'],
      body: z.object({ status: z.enum(['available', 'offline'], { error: 'available or offline (dispatch sets busy)' }) }),
      async handler({ user, body }) {
        const rider = await deps.live.setStatus(user.sub, body.status, Date.now());
        return { body: { riderId: user.sub, status: body.status, hasPosition: Boolean(rider?.cell) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/riders/me/locations',
      roles: ['rider'],
      body: locationBody,
      async handler({ user, body }) {
        const points: LocationPoint[] = body.points.map((p) => ({
          riderId: user.sub,
          recordedAt: Date.parse(p.recordedAt),
          lat: p.lat,
          lng: p.lng,
          speed: p.speed ?? null,
          heading: p.heading ?? null,
          accuracy: p.accuracy ?? null,
          mocked: p.mocked ?? false,
        }));
        await deps.ingest.accept(points);
        return { status: 202, body: { accepted: points.length } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/riders/nearby',
      roles: ['admin', 'restaurant'],
      query: z.object({
        lat: z.coerce.number().min(-90).max(90),
        lng: z.coerce.number().min(-180).max(180),
        radius: z.coerce.number().positive().max(20_000, 'at most 20,000 m').default(1_000),
        limit: z.coerce.number().int().min(1).max(200).default(20),
      }),
      async handler({ query }) {
        const riders = await deps.live.nearby({ lat: query.lat, lng: query.lng, radiusMeters: query.radius, limit: query.limit, now: Date.now() });
        return { body: { riders: riders.map((r) => ({ ...r, recordedAt: new Date(r.recordedAt).toISOString() })) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/riders/:id/location',
      roles: ['admin'],
      params: riderId,
      async handler({ params }) {
        const rider = await deps.live.state.get(params.id);
        if (!rider || !rider.cell) throw notFound(`no known position for rider ${params.id}`);
        return {
          body: {
            riderId: rider.riderId,
            status: rider.status,
            lat: rider.lat,
            lng: rider.lng,
            speed: rider.speed,
            heading: rider.heading,
            accuracy: rider.accuracy,
            recordedAt: new Date(rider.recordedAt).toISOString(),
            fresh: deps.live.isFresh(rider, Date.now()),
          },
        };
      },
    }),
  ];
}
