import { z } from 'zod';
import type { LocationPoint } from '../../domain/location/point.ts';
import type { LocationIngest } from '../../location/ingest.ts';
import type { LiveLocation } from '../../location/live-location.ts';
import { notFound } from '../errors.ts';
import { defineRoute } from '../route.ts';
import { locationBody, quickLocationBody } from './location-body.ts';

const riderId = z.object({ id: z.string().min(1).max(128) });

export function riderRoutes(deps: { ingest: LocationIngest; live: LiveLocation; passOnPendingOffers(riderId: string): Promise<string[]> }) {
  return [
    defineRoute({
      method: 'put',
      path: '/v1/riders/me/status',
      roles: ['rider'],
      body: z.object({ status: z.enum(['available', 'offline'], { error: 'available or offline (dispatch sets busy)' }) }),
      async handler({ user, body }) {
        const rider = await deps.live.setStatus(user.sub, body.status, Date.now());
        // Going offline passes on a pending offer: its order moves on now, not when it runs out.
        const passedOn = body.status === 'offline' ? await deps.passOnPendingOffers(user.sub) : [];
        return { body: { riderId: user.sub, status: body.status, hasPosition: Boolean(rider?.cell), passedOn } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/riders/me/locations',
      hot: true,
      roles: ['rider'],
      body: locationBody,
      quickBody: (raw) => quickLocationBody(raw),
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
