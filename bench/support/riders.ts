import type { Knex } from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LiveLocation } from '../../location/live-location.ts';
import type { LocationPoint } from '../../domain/location/point.ts';
import { signToken } from '../../runtime/tokens.ts';
import { fmt } from './stats.ts';
import type { Post } from './http-post.ts';
import { seeded } from './hot-spot.ts';

export interface RiderSimulation {
  answers: { accepted: number; acceptConflict: number; rejected: number; ignored: number; errors: number; pollErrors: number };
  delivered: { orders: number; errors: number };
  /** Stops polling for offers, then waits for the answers and deliveries under way. */
  stop(): Promise<void>;
}

/**
 * bench/dispatch's riders, as their phones would act, every request through the real API:
 *
 * - Before the rush each rider's app has signed in: it holds its token, and has made a request with
 *   it (a rider online at a hot spot sends a fix every 5 s), so the API has checked the token and
 *   recorded the rider as a user long before. The bench sends fixes straight to Redis instead, so
 *   without this each rider's first answer would carry a signature check and a user insert that no
 *   online rider's does.
 * - Offers are learnt from one poll of the pending offers every 500 ms (the push that tells a real
 *   rider waits in the notifications queue here) and answered 0.5–3 s after they were written, as a
 *   rider's thumb would, however late the poll saw them: accepted, rejected or left to time out in
 *   the given shares.
 * - A rider who took an order delivers it after `deliverySeconds` (uniform between the two): the
 *   kitchen's ready, then the rider's pick-up, on the way and delivered, each a request to the API as
 *   the apps would send it (so the API's per-request cost and the relay's kick are the product's, not
 *   this process's). A fix just before DELIVERED makes the rider fresh again for the pool they
 *   return to. Without `deliverySeconds` riders keep their orders for the rest of the run.
 *
 * `holding` is shared with the caller: the riders holding an order, whose fixes it may skip.
 */
export async function startRiders(deps: {
  db: Knex;
  live: LiveLocation;
  post: Post;
  apiUrl: string;
  jwt: { secret: string; ttl: string };
  /** The riders who can be offered work (those kept fresh). */
  riders: readonly LocationPoint[];
  holding: Set<string>;
  answer: { accept: number; reject: number };
  deliverySeconds: readonly [number, number] | undefined;
  restaurantTokenOf(orderId: string): string;
}): Promise<RiderSimulation> {
  const { db, live, post, holding, deliverySeconds } = deps;
  const tokens = new Map<string, Promise<string>>();
  const tokenOf = (riderId: string) => tokens.get(riderId) ?? tokens.set(riderId, signToken({ sub: riderId, role: 'rider' }, deps.jwt)).get(riderId)!;
  const signedIn = Date.now();
  for (let i = 0; i < deps.riders.length; i += 200) {
    await Promise.all(
      deps.riders.slice(i, i + 200).map(async (p) => (await fetch(`${deps.apiUrl}/v1/riders/me/offers`, { headers: { authorization: `Bearer ${await tokenOf(p.riderId)}` } })).arrayBuffer()),
    );
  }
  console.log(`${fmt(deps.riders.length)} riders' apps signed in to the API in ${fmt((Date.now() - signedIn) / 1_000, 1)} s`);

  const pointOf = new Map(deps.riders.map((p) => [p.riderId, p]));
  const random = seeded(11);
  const answers = { accepted: 0, acceptConflict: 0, rejected: 0, ignored: 0, errors: 0, pollErrors: 0 };
  const delivered = { orders: 0, errors: 0 };
  const underWay: Array<Promise<void>> = [];
  const seen = new Set<string>();
  let polling = true;

  const deliver = async (riderId: string, orderId: string) => {
    if (!deliverySeconds) return;
    await sleep((deliverySeconds[0] + random() * (deliverySeconds[1] - deliverySeconds[0])) * 1_000);
    const riderToken = await tokenOf(riderId);
    for (const [token, to] of [[deps.restaurantTokenOf(orderId), 'READY_FOR_PICKUP'], [riderToken, 'PICKED_UP'], [riderToken, 'DELIVERING'], [riderToken, 'DELIVERED']] as const) {
      if (to === 'DELIVERED') {
        const point = pointOf.get(riderId);
        if (point) await live.apply([{ ...point, recordedAt: Date.now() }]);
        holding.delete(riderId);
      }
      const res = await post(`/v1/orders/${orderId}/transitions`, { 'content-type': 'application/json', authorization: `Bearer ${token}` }, JSON.stringify({ to }));
      if (res.status !== 200) return void delivered.errors++;
    }
    delivered.orders++;
  };

  const respond = async (offer: { id: string; rider_id: string; created_at: Date }, action: 'accept' | 'reject') => {
    await sleep(Math.max(0, offer.created_at.getTime() + 500 + random() * 2_500 - Date.now()));
    const res = await post(`/v1/offers/${offer.id}/${action}`, { authorization: `Bearer ${await tokenOf(offer.rider_id)}` });
    if (res.status === 200 && action === 'reject') answers.rejected++;
    else if (res.status === 200) {
      answers.accepted++;
      holding.add(offer.rider_id);
      // Counted when it fails, not left as an unhandled rejection that would end the run.
      underWay.push(deliver(offer.rider_id, (JSON.parse(res.text) as { orderId: string }).orderId).catch(() => void delivered.errors++));
    } else if (res.status === 409 && action === 'accept') answers.acceptConflict++;
    else answers.errors++;
  };

  const poll = (async () => {
    while (polling) {
      // On a starved machine this process's own pool can time out too: try again next turn, never end the run.
      const offers = await db('dispatch_offers')
        .where({ status: 'PENDING' })
        .select<Array<{ id: string; rider_id: string; created_at: Date }>>('id', 'rider_id', 'created_at')
        .catch(() => void answers.pollErrors++);
      for (const offer of offers ?? []) {
        if (seen.has(offer.id)) continue;
        seen.add(offer.id);
        const roll = random();
        if (roll >= deps.answer.accept + deps.answer.reject) answers.ignored++;
        else underWay.push(respond(offer, roll < deps.answer.accept ? 'accept' : 'reject').catch(() => void answers.errors++));
      }
      await sleep(500);
    }
  })();

  return {
    answers,
    delivered,
    async stop() {
      polling = false;
      await poll;
      // Answers add deliveries while they finish: wait until nothing new was added.
      for (let n = 0; n !== underWay.length; ) {
        n = underWay.length;
        await Promise.all(underWay.slice());
      }
    },
  };
}
