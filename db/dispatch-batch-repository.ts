import type { Knex } from 'knex';
import { keptArray, preparedQuery } from './prepared.ts';
import { acceptOffer, createOffer, type AcceptResult, type DispatchRow, type MatchSubject, type OfferOutcome, type OfferPush, type OfferRow } from './dispatch-repository.ts';
import type { ProfileRow } from './rider-profiles-repository.ts';

/**
 * The statements of many concurrent matches, one statement each (dispatch/match-batches.ts groups
 * them): the same writes as `openDispatch` and `createOffer`, row by row, at one statement's and
 * one commit's cost. The hot ones are prepared with their plans kept (db/prepared.ts: keptArray):
 * planned anew for every batch, their CTEs cost Postgres more than running them.
 */

export interface OpenRequest {
  orderId: string;
  radiusMeters: number;
  requestedAt?: Date;
}

type OpenRow = MatchSubject['order'] & { d_status: DispatchRow['status'] | null; round: number; offers_in_round: number; radius_m: number; d_rider_id: string | null };
const ENDED = ['DELIVERED', 'REJECTED', 'CANCELLED'];

/** `openDispatch` for many orders: per request, in order, the order and its dispatch, or undefined (no such order). */
export async function openDispatches(db: Knex, requests: readonly OpenRequest[]): Promise<Array<MatchSubject | undefined>> {
  // One row per order in the statement (one insert each); a repeated order reads the same answer.
  const unique = [...new Map(requests.map((r) => [r.orderId, r])).values()];
  const rows = await preparedQuery<OpenRow>(
    db,
    'dispatch.open-dispatches',
    `WITH input AS (SELECT * FROM unnest(${keptArray(1, 'text')}, ${keptArray(2, 'int')}, ${keptArray(3, 'timestamptz')}) AS i(order_id, radius_m, at)),
     o AS (
       SELECT orders.id, orders.status, orders.rider_id, orders.customer_id, orders.dropoff_lat, orders.dropoff_lng,
              r.name AS restaurant_name, r.lat AS restaurant_lat, r.lng AS restaurant_lng, i.radius_m AS requested_radius, i.at
         FROM input i JOIN orders ON orders.id = i.order_id JOIN restaurants r ON r.id = orders.restaurant_id),
     created AS (
       INSERT INTO dispatches (order_id, status, radius_m, created_at)
       SELECT id, 'SEARCHING', requested_radius, coalesce(at, now()) FROM o
        WHERE o.rider_id IS NULL AND o.status NOT IN ('DELIVERED', 'REJECTED', 'CANCELLED')
       ON CONFLICT (order_id) DO NOTHING RETURNING *)
     SELECT o.id, o.status, o.rider_id, o.customer_id, o.dropoff_lat, o.dropoff_lng, o.restaurant_name, o.restaurant_lat, o.restaurant_lng,
            d.status AS d_status, d.round, d.offers_in_round, d.radius_m, d.rider_id AS d_rider_id
       FROM o LEFT JOIN LATERAL (
         SELECT * FROM created WHERE created.order_id = o.id UNION ALL SELECT * FROM dispatches WHERE order_id = o.id LIMIT 1) d ON true`,
    [unique.map((r) => r.orderId), unique.map((r) => r.radiusMeters), unique.map((r) => r.requestedAt?.toISOString() ?? null)],
  );
  const subjects = new Map<string, MatchSubject>();
  const unseen: string[] = [];
  for (const { d_status, round, offers_in_round, radius_m, d_rider_id, ...order } of rows) {
    const open = order.rider_id === null && !ENDED.includes(order.status);
    if (d_status) subjects.set(order.id, { order, dispatch: { order_id: order.id, status: d_status, round, offers_in_round, radius_m, rider_id: d_rider_id } });
    else {
      subjects.set(order.id, { order, dispatch: undefined });
      if (open) unseen.push(order.id);
    }
  }
  // A dispatch another transaction committed during the statement is not in its snapshot: read again.
  if (unseen.length > 0) {
    for (const d of await db('dispatches').whereIn('order_id', unseen).select<DispatchRow[]>('*')) subjects.get(d.order_id)!.dispatch = d;
  }
  return requests.map((r) => subjects.get(r.orderId));
}

export interface OfferRequest {
  offer: Omit<OfferRow, 'status' | 'created_at'>;
  push?: OfferPush;
  /** The dispatch's search radius as the match read it (kept should its row have to be written anew). */
  radiusMeters: number;
}

/**
 * `createOffer` for many orders: each offer with its dispatch's count, its rider's tally, its event
 * and its push record, in one statement. The unique indexes still decide (one pending offer per
 * order, one per rider); an offer they turn away here is tried again alone, whose error then says
 * which of the two it was, so each request gets the answer `createOffer` would have given it.
 */
export async function createOffers(db: Knex, requests: readonly OfferRequest[]): Promise<OfferOutcome[]> {
  const column = <T>(pick: (r: OfferRequest) => T) => requests.map(pick);
  const rows = await preparedQuery<{ id: string; profile: ProfileRow }>(
    db,
    'dispatch.create-offers',
    `WITH input AS (
       SELECT * FROM unnest(${keptArray(1, 'text')}, ${keptArray(2, 'text')}, ${keptArray(3, 'text')}, ${keptArray(4, 'float8')},
                            ${keptArray(5, 'int')}, ${keptArray(6, 'timestamptz')}, ${keptArray(7, 'jsonb')}, ${keptArray(8, 'text')},
                            ${keptArray(9, 'text')}, ${keptArray(10, 'text')}, ${keptArray(11, 'text')}, ${keptArray(12, 'text')},
                            ${keptArray(13, 'jsonb')}, ${keptArray(14, 'jsonb')}, ${keptArray(15, 'int')})
         AS i(id, order_id, rider_id, distance_m, expected_earning, expires_at, detail, push_id, push_key, push_event, push_channel, push_recipient_key, push_recipient, push_data, radius_m)),
     offer AS (
       INSERT INTO dispatch_offers (id, order_id, rider_id, distance_m, expected_earning, expires_at)
       SELECT id, order_id, rider_id, distance_m, expected_earning, expires_at FROM input
       ON CONFLICT DO NOTHING
       RETURNING id, order_id, rider_id),
     -- An upsert, not an UPDATE joined to the offers: its row is found through the key's index
     -- whatever the kept plan thinks of the table's size. As a join, the plan kept from a
     -- connection's first calls, made while few dispatches existed, read the whole table for every
     -- batch (bench/dispatch: 1.9 of the median sampled call's 2.5 ms, and growing with the table).
     -- The match opened the dispatch, so the insert never happens; should it, the row it writes is
     -- the dispatch as the offer leaves it.
     dispatch AS (
       INSERT INTO dispatches AS d (order_id, status, offers_in_round, radius_m)
       SELECT offer.order_id, 'OFFERED', 1, i.radius_m FROM offer JOIN input i ON i.id = offer.id
       ON CONFLICT (order_id) DO UPDATE SET status = 'OFFERED', offers_in_round = d.offers_in_round + 1, updated_at = now()),
     profile AS (
       INSERT INTO rider_profiles (rider_id, offers_received) SELECT rider_id, 1 FROM offer
       ON CONFLICT (rider_id) DO UPDATE SET offers_received = rider_profiles.offers_received + 1, updated_at = now()
       RETURNING rider_id, max_distance_m, auto_accept, offers_received, offers_accepted),
     event AS (
       INSERT INTO dispatch_events (order_id, type, rider_id, detail) SELECT i.order_id, 'offered', i.rider_id, i.detail FROM offer JOIN input i ON i.id = offer.id),
     push AS (
       INSERT INTO notification_deliveries (id, idempotency_key, event, channel, recipient_key, recipient, data)
       SELECT i.push_id, i.push_key, i.push_event, i.push_channel, i.push_recipient_key, i.push_recipient, i.push_data
         FROM offer JOIN input i ON i.id = offer.id WHERE i.push_id IS NOT NULL
       ON CONFLICT (id) DO NOTHING)
     SELECT offer.id, row_to_json(profile) AS profile FROM offer JOIN profile ON profile.rider_id = offer.rider_id`,
    [
      column((r) => r.offer.id),
      column((r) => r.offer.order_id),
      column((r) => r.offer.rider_id),
      column((r) => r.offer.distance_m),
      column((r) => r.offer.expected_earning),
      column((r) => r.offer.expires_at.toISOString()),
      column((r) => JSON.stringify({ offerId: r.offer.id, distanceM: Math.round(r.offer.distance_m), expiresAt: r.offer.expires_at })),
      column((r) => r.push?.id ?? null),
      column((r) => r.push?.idempotency_key ?? null),
      column((r) => r.push?.event ?? null),
      column((r) => r.push?.channel ?? null),
      column((r) => r.push?.recipient_key ?? null),
      column((r) => (r.push ? JSON.stringify(r.push.recipient) : null)),
      column((r) => (r.push ? JSON.stringify(r.push.data) : null)),
      column((r) => r.radiusMeters),
    ],
  );
  const made = new Map(rows.map((r) => [r.id, r.profile]));
  return Promise.all(
    requests.map(async (r): Promise<OfferOutcome> => {
      const profile = made.get(r.offer.id);
      return profile ? { kind: 'offered', profile } : createOffer(db, r.offer, r.push);
    }),
  );
}

/**
 * `acceptOffer` for many riders' answers in one statement: the same checks and writes, per offer.
 * One answer per offer and per rider in a statement (repeats go into the next one, where they find
 * the offer decided). A rider who already holds an order is told so without writing; should the
 * database's unique index still refuse the batch (a rider assigned meanwhile by another
 * transaction), each answer is decided alone.
 */
export async function acceptOffers(db: Knex, answers: ReadonlyArray<{ offerId: string; riderId: string }>): Promise<AcceptResult[]> {
  const offers = new Set<string>();
  const riders = new Set<string>();
  const now: number[] = [];
  const later: number[] = [];
  answers.forEach((a, i) => {
    const fresh = !offers.has(a.offerId) && !riders.has(a.riderId);
    if (fresh) offers.add(a.offerId), riders.add(a.riderId);
    (fresh ? now : later).push(i);
  });
  const out: AcceptResult[] = new Array(answers.length);
  const batch = now.map((i) => answers[i]!);
  const decided = await acceptDistinct(db, batch).catch(async (err: unknown) => {
    const code = (err as { code?: string }).code;
    // A rider assigned meanwhile (unique index) or a lock cycle with another batch: one by one.
    if (code !== '23505' && code !== '40P01') throw err;
    return Promise.all(batch.map((a) => acceptOffer(db, a.offerId, a.riderId)));
  });
  now.forEach((i, k) => (out[i] = decided[k]!));
  if (later.length > 0) {
    const rest = await acceptOffers(db, later.map((i) => answers[i]!));
    later.forEach((i, k) => (out[i] = rest[k]!));
  }
  return out;
}

/**
 * Prepared, its plan kept (db/prepared.ts: keptArray): at a hot spot riders answer a few hundred
 * offers a second, and planning this statement cost two to three times running it.
 *
 * Each answer looks up its own offer by key (the `LATERAL` step). Written as a join, the kept plan
 * was made while few offers were pending, and it read every pending offer (hundreds at a hot spot)
 * for each batch and filtered them against the answers: at 166 acceptances a second that was most
 * of this statement's time. The answers come sorted by offer id, so concurrent batches lock their
 * offers in one order. The rider's open order (`free`) and the order to assign (`target`, locked,
 * then updated by its key alone) are looked up the same way: on a new database, with a few pages of
 * orders, a join's kept plan scanned `orders` whole (tests/dispatch-plans.test.ts).
 */
const ACCEPT_DISTINCT = `
  WITH input AS (SELECT * FROM unnest(${keptArray(1, 'text')}, ${keptArray(2, 'text')}) AS i(offer_id, rider_id)),
   offer AS (
     SELECT o.id, o.order_id, o.rider_id FROM input i CROSS JOIN LATERAL (
       SELECT o.id, o.order_id, o.rider_id FROM dispatch_offers o
        WHERE o.id = i.offer_id AND o.rider_id = i.rider_id AND o.status = 'PENDING' AND o.expires_at > now()
        FOR UPDATE) o),
   free AS (
     SELECT offer.* FROM offer LEFT JOIN LATERAL (
       SELECT 1 AS busy FROM orders WHERE orders.active_rider_id = offer.rider_id LIMIT 1) held ON true
      WHERE held.busy IS NULL),
   target AS (
     SELECT t.id, free.rider_id FROM free CROSS JOIN LATERAL (
       SELECT orders.id FROM orders
        WHERE orders.id = free.order_id AND orders.rider_id IS NULL AND orders.status IN ('PLACED', 'COOKING', 'READY_FOR_PICKUP')
        FOR UPDATE) t),
   assigned AS (
     UPDATE orders SET rider_id = target.rider_id, version = orders.version + 1, updated_at = now() FROM target
      WHERE orders.id = target.id
      RETURNING orders.id),
   accepted AS (
     UPDATE dispatch_offers d SET status = 'ACCEPTED', decided_at = now() FROM free
      WHERE d.id = free.id AND free.order_id IN (SELECT id FROM assigned)
      RETURNING d.id, d.order_id, d.rider_id),
   dispatch AS (
     UPDATE dispatches SET status = 'ASSIGNED', rider_id = accepted.rider_id, updated_at = now() FROM accepted WHERE dispatches.order_id = accepted.order_id),
   profile AS (
     UPDATE rider_profiles p SET offers_accepted = p.offers_accepted + 1, updated_at = now() FROM accepted
      WHERE p.rider_id = accepted.rider_id
      RETURNING p.rider_id, p.max_distance_m, p.auto_accept, p.offers_received, p.offers_accepted),
   event AS (
     INSERT INTO dispatch_events (order_id, type, rider_id, detail) SELECT order_id, 'accepted', rider_id, jsonb_build_object('offerId', id) FROM accepted)
   SELECT i.offer_id,
          (SELECT order_id FROM offer WHERE offer.id = i.offer_id) AS offered,
          (SELECT order_id FROM accepted WHERE accepted.id = i.offer_id) AS accepted,
          (SELECT status FROM dispatch_offers d WHERE d.id = i.offer_id AND d.rider_id = i.rider_id) AS current,
          NOT EXISTS (SELECT 1 FROM free WHERE free.id = i.offer_id) AS busy,
          (SELECT row_to_json(profile) FROM profile WHERE profile.rider_id = i.rider_id) AS profile
     FROM input i`;

async function acceptDistinct(db: Knex, answers: ReadonlyArray<{ offerId: string; riderId: string }>): Promise<AcceptResult[]> {
  const sorted = [...answers].sort((a, b) => (a.offerId < b.offerId ? -1 : a.offerId > b.offerId ? 1 : 0));
  const rows = await preparedQuery<{ offer_id: string; offered: string | null; accepted: string | null; current: string | null; busy: boolean; profile: ProfileRow | null }>(
    db,
    'dispatch.accept-offers',
    ACCEPT_DISTINCT,
    [sorted.map((a) => a.offerId), sorted.map((a) => a.riderId)],
  );
  const byOffer = new Map(rows.map((r) => [r.offer_id, r]));
  return answers.map((a): AcceptResult => {
    const { offered, accepted, current, busy, profile } = byOffer.get(a.offerId)!;
    if (accepted) return { kind: 'accepted', orderId: accepted, ...(profile && { profile }) };
    if (offered && busy) return { kind: 'rider-busy' };
    if (offered) return { kind: 'order-gone' };
    // `current` is as the statement found it: pending but past its time is expired.
    return { kind: 'not-pending', status: current === 'PENDING' ? 'EXPIRED' : (current ?? undefined) };
  });
}

/** Prepared, its plan kept (db/prepared.ts): one run per offer batch's timeout, and planned anew each time its planning cost twice its run. */
const EXPIRE_OFFERS = `
  WITH offer AS (
     UPDATE dispatch_offers d SET status = 'EXPIRED', decided_at = now()
       FROM unnest(${keptArray(1, 'text')}) AS i(id)
      WHERE d.id = i.id AND d.status = 'PENDING' AND d.expires_at <= now()
      RETURNING d.id, d.order_id, d.rider_id),
   dispatch AS (
     UPDATE dispatches SET status = 'SEARCHING', updated_at = now() WHERE order_id IN (SELECT order_id FROM offer) AND status = 'OFFERED'),
   event AS (
     INSERT INTO dispatch_events (order_id, type, rider_id, detail) SELECT order_id, 'expired', rider_id, jsonb_build_object('offerId', id) FROM offer)
   SELECT id, order_id, rider_id FROM offer`;

/**
 * `closeOffer(…, 'EXPIRED')` for the offers one timeout job covers, in one statement: those still
 * pending and past their time are expired, their dispatches reopened and their events recorded.
 * Returns the offers it closed (an answered one is left as it is).
 */
export async function expireOffers(db: Knex, offerIds: readonly string[]): Promise<Array<{ offerId: string; orderId: string; riderId: string }>> {
  if (offerIds.length === 0) return [];
  const rows = await preparedQuery<{ id: string; order_id: string; rider_id: string }>(db, 'dispatch.expire-offers', EXPIRE_OFFERS, [[...new Set(offerIds)]]);
  return rows.map((r) => ({ offerId: r.id, orderId: r.order_id, riderId: r.rider_id }));
}

/**
 * Offers still pending `graceMs` after they ran out, oldest first, at most `limit`: their timeout
 * job never ran (the worker stopped between writing them and adding it, or Redis lost it). Read
 * through the pending offers' partial indexes, which hold only the few offers riders are
 * considering, not the table's history.
 */
export async function overdueOffers(db: Knex, graceMs: number, limit: number): Promise<string[]> {
  const rows = await overdueOffersQuery(db, graceMs, limit);
  return rows.map((r) => r.id);
}

/** {@link overdueOffers}'s read, for explaining its plan (tests/dispatch-timeouts.test.ts). */
export function overdueOffersQuery(db: Knex, graceMs: number, limit: number) {
  return db('dispatch_offers')
    .where({ status: 'PENDING' })
    .andWhere('expires_at', '<', db.raw('now() - make_interval(secs => ?)', [graceMs / 1_000]))
    .orderBy('expires_at')
    .limit(limit)
    .select<Array<{ id: string }>>('id');
}
