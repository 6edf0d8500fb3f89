import type { Knex } from 'knex';
import { z } from 'zod';
import { listFraudAlerts } from '../../db/fraud-alerts-repository.ts';
import { trackMinutes, trackPoints } from '../../db/location-history-repository.ts';
import { routeDistanceMeters } from '../../domain/location/geo.ts';
import { badRequest } from '../errors.ts';
import { defineRoute } from '../route.ts';

const instant = z.iso.datetime({ offset: true, error: 'an ISO-8601 time with an offset' });
const MAX_SPAN_MS = 24 * 3600 * 1000;

/** Ops: where a rider went, and which GPS fixes looked fraudulent. */
export function riderHistoryRoutes(deps: { db: Knex }) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/riders/:id/track',
      roles: ['admin'],
      params: z.object({ id: z.string().min(1).max(128) }),
      query: z.object({ from: instant, to: instant, resolution: z.enum(['raw', 'minute'], { error: 'raw or minute' }).default('raw') }),
      async handler({ params, query }) {
        const from = Date.parse(query.from);
        const to = Date.parse(query.to);
        if (to <= from) throw badRequest('query.to: must be after from', [{ path: 'query.to', message: 'must be after from' }]);
        if (query.resolution === 'raw' && to - from > MAX_SPAN_MS) {
          throw badRequest('query.to: raw tracks span at most 24 h (raw points are kept 24 h)', [{ path: 'query.to', message: 'at most 24 h after from for raw' }]);
        }
        if (query.resolution === 'minute') {
          const minutes = await trackMinutes(deps.db, params.id, from, to);
          return { body: { riderId: params.id, resolution: 'minute', minutes } };
        }
        const points = await trackPoints(deps.db, params.id, from, to);
        return {
          body: {
            riderId: params.id,
            resolution: 'raw',
            // Settlement distance leaves fraud-flagged fixes out.
            distanceMeters: Math.round(routeDistanceMeters(points, { excludeFlagged: true })),
            points: points.map((p) => ({ ...p, recordedAt: new Date(p.recordedAt).toISOString() })),
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/admin/fraud-alerts',
      roles: ['admin'],
      query: z.object({ riderId: z.string().min(1).max(128).optional(), since: instant.optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }),
      async handler({ query }) {
        const rows = await listFraudAlerts(deps.db, { riderId: query.riderId, since: query.since ? new Date(query.since) : undefined, limit: query.limit });
        return {
          body: {
            alerts: rows.map((r) => ({
              id: r.id,
              riderId: r.rider_id,
              rule: r.rule,
              severity: r.severity,
              alert: r.alert,
              detail: r.detail,
              recordedAt: r.recorded_at.toISOString(),
              createdAt: r.created_at.toISOString(),
              evidence: r.evidence,
            })),
          },
        };
      },
    }),
  ];
}
