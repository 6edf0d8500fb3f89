import type { Knex } from 'knex';
import { preparedQuery } from './prepared.ts';
import type { ProfileRow } from './rider-profiles-repository.ts';

export interface DispatchRow {
  order_id: string;
  status: 'SEARCHING' | 'OFFERED' | 'ASSIGNED' | 'FAILED' | 'CANCELLED';
  round: number;
  offers_in_round: number;
  radius_m: number;
  rider_id: string | null;
}

export interface OfferRow {
  id: string;
  order_id: string;
  rider_id: string;
  status: 'PENDING' | 'ACCEPTED' | 'REJECTED' | 'EXPIRED' | 'CANCELLED';
  distance_m: number;
  expected_earning: number;
  expires_at: Date;
  created_at: Date;
}

/** What one matching step needs of the order and its dispatch. */
export interface MatchSubject {
  order: { id: string; status: string; rider_id: string | null; customer_id: string; dropoff_lat: number; dropoff_lng: number; restaurant_name: string; restaurant_lat: number; restaurant_lng: number };
  /** Undefined when the order has ended or has its rider (no dispatch is opened then). */
  dispatch: DispatchRow | undefined;
}

/**
 * The order (with its restaurant) and its dispatch, opened on the first call for an order that
 * still needs a rider: one round trip instead of a read and an insert. Undefined: no such order.
 */
export async function openDispatch(db: Knex, orderId: string, radiusMeters: number, requestedAt?: Date): Promise<MatchSubject | undefined> {
  const { rows } = await db.raw<{ rows: Array<MatchSubject['order'] & { d_status: DispatchRow['status'] | null; round: number; offers_in_round: number; radius_m: number; d_rider_id: string | null }> }>(
    `WITH o AS (
       SELECT orders.id, orders.status, orders.rider_id, orders.customer_id, orders.dropoff_lat, orders.dropoff_lng,
              r.name AS restaurant_name, r.lat AS restaurant_lat, r.lng AS restaurant_lng
         FROM orders JOIN restaurants r ON r.id = orders.restaurant_id WHERE orders.id = :orderId),
     created AS (
       INSERT INTO dispatches (order_id, status, radius_m, created_at)
       SELECT id, 'SEARCHING', :radius, coalesce(:at::timestamptz, now()) FROM o
        WHERE o.rider_id IS NULL AND o.status NOT IN ('DELIVERED', 'REJECTED', 'CANCELLED')
       ON CONFLICT (order_id) DO NOTHING RETURNING *)
     SELECT o.*, d.status AS d_status, d.round, d.offers_in_round, d.radius_m, d.rider_id AS d_rider_id
       FROM o LEFT JOIN LATERAL (SELECT * FROM created UNION ALL SELECT * FROM dispatches WHERE order_id = o.id LIMIT 1) d ON true`,
    { orderId, radius: radiusMeters, at: requestedAt?.toISOString() ?? null },
  );
  const row = rows[0];
  if (!row) return undefined;
  const { d_status, round, offers_in_round, radius_m, d_rider_id, ...order } = row;
  const open = order.rider_id === null && !['DELIVERED', 'REJECTED', 'CANCELLED'].includes(order.status);
  if (d_status) return { order, dispatch: { order_id: orderId, status: d_status, round, offers_in_round, radius_m, rider_id: d_rider_id } };
  // A dispatch another transaction committed during this statement is not in its snapshot: read again.
  return { order, dispatch: open ? await db('dispatches').where({ order_id: orderId }).first<DispatchRow>() : undefined };
}

/**
 * Ends the dispatch of an order that was cancelled before a rider took it: its pending offer is
 * withdrawn (`CANCELLED`, event `withdrawn`) and the dispatch closed (`CANCELLED`, event
 * `cancelled`). Only what is still open changes, so a repeat changes nothing. An accept racing it
 * finds the order cancelled and takes nothing. Returns the offers withdrawn, whose riders are free.
 */
export async function withdrawDispatch(db: Knex, orderId: string): Promise<Array<{ offerId: string; riderId: string }>> {
  const { rows } = await db.raw<{ rows: Array<{ id: string; rider_id: string }> }>(
    `WITH offer AS (
       UPDATE dispatch_offers SET status = 'CANCELLED', decided_at = now() WHERE order_id = :orderId AND status = 'PENDING' RETURNING id, rider_id),
     dispatch AS (
       UPDATE dispatches SET status = 'CANCELLED', updated_at = now() WHERE order_id = :orderId AND status IN ('SEARCHING', 'OFFERED') RETURNING order_id),
     event AS (
       INSERT INTO dispatch_events (order_id, type, rider_id, detail)
       SELECT :orderId, 'withdrawn', rider_id, jsonb_build_object('offerId', id) FROM offer
       UNION ALL SELECT order_id, 'cancelled', NULL, '{}'::jsonb FROM dispatch)
     SELECT id, rider_id FROM offer`,
    { orderId },
  );
  return rows.map((r) => ({ offerId: r.id, riderId: r.rider_id }));
}

/** Everything dispatch recorded for one order, oldest first: for ops asking why a rider took so long. */
export interface DispatchHistory {
  dispatch: (DispatchRow & { created_at: Date; updated_at: Date }) | undefined;
  offers: Array<OfferRow & { decided_at: Date | null }>;
  events: Array<{ id: string; type: string; rider_id: string | null; detail: Record<string, unknown>; at: Date }>;
}

export async function dispatchHistory(db: Knex, orderId: string): Promise<DispatchHistory> {
  const [dispatch, offers, events] = await Promise.all([
    db('dispatches').where({ order_id: orderId }).first(),
    db('dispatch_offers').where({ order_id: orderId }).orderBy([{ column: 'created_at' }, { column: 'id' }]).select('*'),
    db('dispatch_events').where({ order_id: orderId }).orderBy('id').select('*'),
  ]);
  return { dispatch, offers, events };
}

export async function recordEvent(db: Knex, orderId: string, type: string, riderId: string | null, detail: Record<string, unknown> = {}): Promise<void> {
  await db('dispatch_events').insert({ order_id: orderId, type, rider_id: riderId, detail: JSON.stringify(detail) });
}

export type OfferOutcome = { kind: 'offered'; profile: ProfileRow } | { kind: 'rider-has-offer' } | { kind: 'order-has-offer' };

/** A notification record written with the offer (see notifications/notify.ts: `deliveryRows`). */
export interface OfferPush {
  id: string;
  idempotency_key: string;
  event: string;
  channel: string;
  recipient_key: string;
  recipient: unknown;
  data: unknown;
}

/**
 * Offers the order to one rider: the offer, the dispatch's count, the rider's tally, the event and,
 * when given, the push's delivery record, in one statement (one round trip, atomic). Writes nothing
 * when the order already has a pending offer or the rider is considering another one: the unique
 * indexes decide. Returns the rider's profile as it now stands.
 */
export async function createOffer(db: Knex, offer: Omit<OfferRow, 'status' | 'created_at'>, push?: OfferPush): Promise<OfferOutcome> {
  try {
    const { rows } = await db.raw<{ rows: ProfileRow[] }>(
      `WITH offer AS (
         INSERT INTO dispatch_offers (id, order_id, rider_id, distance_m, expected_earning, expires_at) VALUES (:id, :orderId, :riderId, :distance, :earning, :expiresAt)
         RETURNING order_id, rider_id),
       dispatch AS (
         UPDATE dispatches SET status = 'OFFERED', offers_in_round = offers_in_round + 1, updated_at = now() WHERE order_id = (SELECT order_id FROM offer)),
       profile AS (
         INSERT INTO rider_profiles (rider_id, offers_received) SELECT rider_id, 1 FROM offer
         ON CONFLICT (rider_id) DO UPDATE SET offers_received = rider_profiles.offers_received + 1, updated_at = now()
         RETURNING rider_id, max_distance_m, auto_accept, offers_received, offers_accepted),
       event AS (
         INSERT INTO dispatch_events (order_id, type, rider_id, detail) SELECT order_id, 'offered', rider_id, :detail::jsonb FROM offer),
       push AS (
         INSERT INTO notification_deliveries (id, idempotency_key, event, channel, recipient_key, recipient, data)
         SELECT :pushId, :pushKey, :pushEvent, :pushChannel, :pushRecipientKey, :pushRecipient::jsonb, :pushData::jsonb FROM offer WHERE :pushId::text IS NOT NULL
         ON CONFLICT (id) DO NOTHING)
       SELECT * FROM profile`,
      {
        id: offer.id,
        orderId: offer.order_id,
        riderId: offer.rider_id,
        distance: offer.distance_m,
        earning: offer.expected_earning,
        expiresAt: offer.expires_at,
        detail: JSON.stringify({ offerId: offer.id, distanceM: Math.round(offer.distance_m), expiresAt: offer.expires_at }),
        pushId: push?.id ?? null,
        pushKey: push?.idempotency_key ?? null,
        pushEvent: push?.event ?? null,
        pushChannel: push?.channel ?? null,
        pushRecipientKey: push?.recipient_key ?? null,
        pushRecipient: push ? JSON.stringify(push.recipient) : null,
        pushData: push ? JSON.stringify(push.data) : null,
      },
    );
    return { kind: 'offered', profile: rows[0]! };
  } catch (err) {
    const { code, constraint } = err as { code?: string; constraint?: string };
    if (code === '23505') return { kind: constraint === 'dispatch_offers_one_pending_per_order' ? 'order-has-offer' : 'rider-has-offer' };
    throw err;
  }
}

export type AcceptResult = { kind: 'accepted'; orderId: string; profile?: ProfileRow } | { kind: 'not-pending'; status: string | undefined } | { kind: 'rider-busy' } | { kind: 'order-gone' };

/**
 * Accepting is one statement (one round trip, atomic): the offer must still be pending and
 * unexpired, the order still without a rider, and the rider without another active order (a
 * unique index, not just code). The offer's row is locked first, so two accepts of one offer
 * queue up and the second finds it decided; when the order cannot take the rider nothing is
 * written at all.
 *
 * A prepared statement: riders answer a few hundred offers a second at a hot spot, and planning
 * these CTEs took longer than running them (1.4 ms against 0.2–1 ms). Its parameters are scalars,
 * so Postgres's generic plan is as good as a custom one and is kept after the first few calls on
 * each connection.
 */
const ACCEPT_OFFER = `
  WITH offer AS (
     SELECT id, order_id FROM dispatch_offers
      WHERE id = $1 AND rider_id = $2 AND status = 'PENDING' AND expires_at > now()
      FOR UPDATE),
   assigned AS (
     UPDATE orders SET rider_id = $2, version = version + 1, updated_at = now()
      WHERE id = (SELECT order_id FROM offer) AND rider_id IS NULL AND status IN ('PLACED', 'COOKING', 'READY_FOR_PICKUP')
      RETURNING id),
   accepted AS (
     UPDATE dispatch_offers SET status = 'ACCEPTED', decided_at = now()
      WHERE id = (SELECT id FROM offer) AND EXISTS (SELECT 1 FROM assigned)
      RETURNING order_id),
   dispatch AS (
     UPDATE dispatches SET status = 'ASSIGNED', rider_id = $2, updated_at = now() WHERE order_id = (SELECT order_id FROM accepted)),
   profile AS (
     UPDATE rider_profiles SET offers_accepted = offers_accepted + 1, updated_at = now()
      WHERE rider_id = $2 AND EXISTS (SELECT 1 FROM accepted)
      RETURNING rider_id, max_distance_m, auto_accept, offers_received, offers_accepted),
   event AS (
     INSERT INTO dispatch_events (order_id, type, rider_id, detail) SELECT order_id, 'accepted', $2, jsonb_build_object('offerId', $1::text) FROM accepted)
   SELECT (SELECT order_id FROM offer) AS offered, (SELECT order_id FROM accepted) AS accepted,
          (SELECT status FROM dispatch_offers WHERE id = $1 AND rider_id = $2) AS current,
          (SELECT row_to_json(profile) FROM profile) AS profile`;

export async function acceptOffer(db: Knex, offerId: string, riderId: string): Promise<AcceptResult> {
  try {
    const rows = await preparedQuery<{ offered: string | null; accepted: string | null; current: string | null; profile: ProfileRow | null }>(db, 'dispatch.accept-offer', ACCEPT_OFFER, [offerId, riderId]);
    const { offered, accepted, current, profile } = rows[0]!;
    if (accepted) return { kind: 'accepted', orderId: accepted, ...(profile && { profile }) };
    if (offered) return { kind: 'order-gone' };
    // `current` is as the statement found it: pending but past its time is expired.
    return { kind: 'not-pending', status: current === 'PENDING' ? 'EXPIRED' : (current ?? undefined) };
  } catch (err) {
    if ((err as { code?: string }).code === '23505') return { kind: 'rider-busy' };
    throw err;
  }
}

/** A closed offer: its order and rider, and whether the rider holds an active order (then they stay busy). */
export interface ClosedOffer {
  orderId: string;
  riderId: string;
  riderHasOrder: boolean;
}

/**
 * Rejects or expires a pending offer, reopens its dispatch and records the event, in one statement
 * (prepared, as the accept: a rider's pass is as frequent and its plan as costly); returns its
 * order and rider, and whether the rider holds an active order, or undefined if it was no longer
 * pending.
 */
const CLOSE_OFFER = `
  WITH offer AS (
     UPDATE dispatch_offers SET status = $2, decided_at = now()
      WHERE id = $1 AND status = 'PENDING'
        AND ($3::text IS NULL OR rider_id = $3::text)
        AND ($2 <> 'EXPIRED' OR expires_at <= now())
      RETURNING order_id, rider_id),
   dispatch AS (
     UPDATE dispatches SET status = 'SEARCHING', updated_at = now() WHERE order_id = (SELECT order_id FROM offer) AND status = 'OFFERED'),
   event AS (
     INSERT INTO dispatch_events (order_id, type, rider_id, detail) SELECT order_id, lower($2), rider_id, jsonb_build_object('offerId', $1::text) FROM offer)
   SELECT order_id, rider_id,
          EXISTS (SELECT 1 FROM orders WHERE orders.active_rider_id = offer.rider_id) AS rider_has_order
     FROM offer`;

export async function closeOffer(db: Knex, offerId: string, outcome: 'REJECTED' | 'EXPIRED', riderId?: string): Promise<ClosedOffer | undefined> {
  const rows = await preparedQuery<{ order_id: string; rider_id: string; rider_has_order: boolean }>(db, 'dispatch.close-offer', CLOSE_OFFER, [offerId, outcome, riderId ?? null]);
  const offer = rows[0];
  return offer && { orderId: offer.order_id, riderId: offer.rider_id, riderHasOrder: offer.rider_has_order };
}

/**
 * Prepared (db/prepared.ts): asked on every rider's reject at a hot spot, where planning it was most
 * of its cost. Read through the one-open-order-per-rider index: `active_rider_id` is the rider while
 * the order is open (db/migrations/20261208020000_orders_status_changes_in_place.ts).
 */
const HAS_ACTIVE_ORDER = `SELECT 1 FROM orders WHERE active_rider_id = $1`;

/** True when the rider holds an order that is not over. */
export async function hasActiveOrder(db: Knex, riderId: string): Promise<boolean> {
  return (await preparedQuery(db, 'dispatch.has-active-order', HAS_ACTIVE_ORDER, [riderId])).length > 0;
}

export async function nextRound(db: Knex, orderId: string, radiusMeters: number): Promise<void> {
  await db('dispatches').where({ order_id: orderId }).update({ round: db.raw('round + 1'), offers_in_round: 0, radius_m: radiusMeters, status: 'SEARCHING', updated_at: db.fn.now() });
  await recordEvent(db, orderId, 'widened', null, { radiusM: radiusMeters });
}

export async function failDispatch(db: Knex, orderId: string, reason: string): Promise<boolean> {
  const changed = await db('dispatches').where({ order_id: orderId }).whereIn('status', ['SEARCHING', 'OFFERED']).update({ status: 'FAILED', updated_at: db.fn.now() });
  if (changed > 0) await recordEvent(db, orderId, 'failed', null, { reason });
  return changed > 0;
}

export async function pendingOffers(db: Knex, riderId: string): Promise<OfferRow[]> {
  return db('dispatch_offers').where({ rider_id: riderId, status: 'PENDING' }).where('expires_at', '>', db.fn.now()).select<OfferRow[]>('*');
}

/** A pending offer as the rider's app shows it: where to pick up, and how far the delivery goes. */
export interface OfferForRider extends OfferRow {
  restaurant_name: string;
  restaurant_lat: number;
  restaurant_lng: number;
  dropoff_lat: number;
  dropoff_lng: number;
}

export async function pendingOffersForRider(db: Knex, riderId: string): Promise<OfferForRider[]> {
  return db('dispatch_offers as o')
    .join('orders', 'orders.id', 'o.order_id')
    .join('restaurants as r', 'r.id', 'orders.restaurant_id')
    .where({ 'o.rider_id': riderId, 'o.status': 'PENDING' })
    .where('o.expires_at', '>', db.fn.now())
    .select<OfferForRider[]>('o.*', 'r.name as restaurant_name', 'r.lat as restaurant_lat', 'r.lng as restaurant_lng', 'orders.dropoff_lat', 'orders.dropoff_lng');
}

export async function getOffer(db: Knex, offerId: string): Promise<OfferRow | undefined> {
  return db('dispatch_offers').where({ id: offerId }).first<OfferRow | undefined>();
}
