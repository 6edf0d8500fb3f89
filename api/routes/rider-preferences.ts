import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { z } from 'zod';
import { profilesOf, setRiderPreferences, type ProfileRow } from '../../db/rider-profiles-repository.ts';
import { acceptanceRate } from '../../domain/dispatch/ranking.ts';
import { createCandidateFacts } from '../../dispatch/candidate-facts.ts';
import { defineRoute } from '../route.ts';

/** The range a rider may ride to a pickup: from a few blocks to across a district (seed 003's example is 20 km). */
export const MAX_DISTANCE_RANGE_M = { min: 300, max: 20_000 } as const;

const preferencesBody = z
  .object({
    maxDistanceMeters: z
      .number({ error: 'a whole number of metres' })
      .int('a whole number of metres')
      .min(MAX_DISTANCE_RANGE_M.min, `at least ${MAX_DISTANCE_RANGE_M.min} m`)
      .max(MAX_DISTANCE_RANGE_M.max, `at most ${MAX_DISTANCE_RANGE_M.max} m`)
      .optional(),
    autoAccept: z.boolean({ error: 'true or false' }).optional(),
  })
  .strict()
  .refine((b) => b.maxDistanceMeters !== undefined || b.autoAccept !== undefined, { message: 'give maxDistanceMeters, autoAccept or both', path: ['maxDistanceMeters'] });

const view = (p: ProfileRow) => ({
  riderId: p.rider_id,
  maxDistanceMeters: p.max_distance_m,
  autoAccept: p.auto_accept,
  offersReceived: p.offers_received,
  offersAccepted: p.offers_accepted,
  acceptanceRate: Math.round(acceptanceRate(p.offers_received, p.offers_accepted) * 1_000) / 1_000,
});

/**
 * A rider's offer preferences (seed 003): how far they ride to a pickup, and whether offers are
 * accepted for them at once. Dispatch ranks by both and leaves out riders beyond their distance.
 * A change is written to Postgres and, in the same request, to the profile dispatch reads from
 * Redis (dispatch/candidate-facts.ts), so the next match sees it. (An offer or answer of that rider
 * being written at the same moment may put the old value back in Redis; the rider's next offer or
 * answer writes the profile again, as Postgres has it.) Ops can read and set any rider's.
 */
export function riderPreferenceRoutes(deps: { db: Knex; redis: Redis; prefix: string }) {
  const facts = createCandidateFacts(deps.db, deps.redis, deps.prefix);
  const read = async (riderId: string) => view((await profilesOf(deps.db, [riderId])).get(riderId)!);
  const write = async (riderId: string, body: z.infer<typeof preferencesBody>) => {
    const profile = await setRiderPreferences(deps.db, riderId, body);
    await facts.saveProfile(riderId, profile);
    return view(profile);
  };
  const riderId = z.object({ id: z.string().min(1).max(128) });
  return [
    defineRoute({
      method: 'get',
      path: '/v1/riders/me/preferences',
      roles: ['rider'],
      async handler({ user }) {
        return { body: await read(user.sub) };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/riders/me/preferences',
      roles: ['rider'],
      body: preferencesBody,
      async handler({ user, body }) {
        return { body: await write(user.sub, body) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/riders/:id/preferences',
      roles: ['admin'],
      params: riderId,
      async handler({ params }) {
        return { body: await read(params.id) };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/riders/:id/preferences',
      roles: ['admin'],
      params: riderId,
      body: preferencesBody,
      async handler({ params, body }) {
        return { body: await write(params.id, body) };
      },
    }),
  ];
}
