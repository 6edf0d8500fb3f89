import type { Knex } from 'knex';

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

export interface ProfileRow {
  rider_id: string;
  max_distance_m: number;
  auto_accept: boolean;
  offers_received: number;
  offers_accepted: number;
}

/**
 * The order's dispatch, created on first call (one round trip either way). `requestedAt` (when
 * the first `dispatch.match` was enqueued) becomes its `created_at`, so request → first offer can
 * be read from the tables.
 */
export async function ensureDispatch(db: Knex, orderId: string, radiusMeters: number, requestedAt?: Date): Promise<DispatchRow> {
  const { rows } = await db.raw<{ rows: DispatchRow[] }>(
    `WITH created AS (
       INSERT INTO dispatches (order_id, status, radius_m, created_at) VALUES (?, 'SEARCHING', ?, coalesce(?::timestamptz, now()))
       ON CONFLICT (order_id) DO NOTHING RETURNING *)
     SELECT * FROM created UNION ALL SELECT * FROM dispatches WHERE order_id = ? LIMIT 1`,
    [orderId, radiusMeters, requestedAt?.toISOString() ?? null, orderId],
  );
  // A row another transaction committed during this statement is not in its snapshot: read again.
  return rows[0] ?? (await db('dispatches').where({ order_id: orderId }).first<DispatchRow>())!;
}

export async function offeredRiders(db: Knex, orderId: string): Promise<Set<string>> {
  const rows = await db('dispatch_offers').where({ order_id: orderId }).select<{ rider_id: string }[]>('rider_id');
  return new Set(rows.map((r) => r.rider_id));
}

export async function riderProfiles(db: Knex, riderIds: string[]): Promise<Map<string, ProfileRow>> {
  const rows = riderIds.length > 0 ? await db('rider_profiles').whereIn('rider_id', riderIds).select<ProfileRow[]>('*') : [];
  const found = new Map(rows.map((r) => [r.rider_id, r]));
  return new Map(riderIds.map((id) => [id, found.get(id) ?? { rider_id: id, max_distance_m: 3_000, auto_accept: false, offers_received: 0, offers_accepted: 0 }]));
}

export async function recordEvent(db: Knex, orderId: string, type: string, riderId: string | null, detail: Record<string, unknown> = {}): Promise<void> {
  await db('dispatch_events').insert({ order_id: orderId, type, rider_id: riderId, detail: JSON.stringify(detail) });
}

export type OfferOutcome = 'offered' | 'rider-has-offer' | 'order-has-offer';

/**
 * Offers the order to one rider: the offer, the dispatch's count, the rider's tally and the event,
 * in one statement (one round trip, atomic). Writes nothing when the order already has a pending
 * offer or the rider is considering another one: the unique indexes decide.
 */
export async function createOffer(db: Knex, offer: Omit<OfferRow, 'status' | 'created_at'>): Promise<OfferOutcome> {
  try {
    await db.raw(
      `WITH offer AS (
         INSERT INTO dispatch_offers (id, order_id, rider_id, distance_m, expected_earning, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         RETURNING order_id, rider_id),
       dispatch AS (
         UPDATE dispatches SET status = 'OFFERED', offers_in_round = offers_in_round + 1, updated_at = now() WHERE order_id = (SELECT order_id FROM offer)),
       profile AS (
         INSERT INTO rider_profiles (rider_id, offers_received) SELECT rider_id, 1 FROM offer
         ON CONFLICT (rider_id) DO UPDATE SET offers_received = rider_profiles.offers_received + 1, updated_at = now())
       INSERT INTO dispatch_events (order_id, type, rider_id, detail) SELECT order_id, 'offered', rider_id, ?::jsonb FROM offer`,
      [offer.id, offer.order_id, offer.rider_id, offer.distance_m, offer.expected_earning, offer.expires_at, JSON.stringify({ offerId: offer.id, distanceM: Math.round(offer.distance_m), expiresAt: offer.expires_at })],
    );
    return 'offered';
  } catch (err) {
    const { code, constraint } = err as { code?: string; constraint?: string };
    if (code === '23505') return constraint === 'dispatch_offers_one_pending_per_order' ? 'order-has-offer' : 'rider-has-offer';
    throw err;
  }
}

export type AcceptResult = { kind: 'accepted'; orderId: string } | { kind: 'not-pending'; status: string | undefined } | { kind: 'rider-busy' } | { kind: 'order-gone' };

/**
 * Accepting is one transaction: the offer must still be pending and unexpired, the order still
 * without a rider, and the rider without another active order (a unique index, not just code).
 */
export async function acceptOffer(db: Knex, offerId: string, riderId: string): Promise<AcceptResult> {
  try {
    return await db.transaction(async (trx): Promise<AcceptResult> => {
      const [offer] = await trx('dispatch_offers')
        .where({ id: offerId, rider_id: riderId, status: 'PENDING' })
        .where('expires_at', '>', trx.fn.now())
        .update({ status: 'ACCEPTED', decided_at: trx.fn.now() })
        .returning<OfferRow[]>('*');
      if (!offer) {
        const current = await trx('dispatch_offers').where({ id: offerId, rider_id: riderId }).first<OfferRow | undefined>();
        return { kind: 'not-pending', status: current?.status === 'PENDING' ? 'EXPIRED' : current?.status };
      }
      const [order] = await trx('orders')
        .where({ id: offer.order_id })
        .whereNull('rider_id')
        .whereIn('status', ['PLACED', 'COOKING', 'READY_FOR_PICKUP'])
        .update({ rider_id: riderId, version: trx.raw('version + 1'), updated_at: trx.fn.now() })
        .returning('id');
      if (!order) throw new OrderGone();
      await trx('dispatches').where({ order_id: offer.order_id }).update({ status: 'ASSIGNED', rider_id: riderId, updated_at: trx.fn.now() });
      await trx('rider_profiles').where({ rider_id: riderId }).update({ offers_accepted: trx.raw('offers_accepted + 1'), updated_at: trx.fn.now() });
      await trx('dispatch_events').insert({ order_id: offer.order_id, type: 'accepted', rider_id: riderId, detail: JSON.stringify({ offerId }) });
      return { kind: 'accepted', orderId: offer.order_id };
    });
  } catch (err) {
    if (err instanceof OrderGone) return { kind: 'order-gone' };
    if ((err as { code?: string }).code === '23505') return { kind: 'rider-busy' };
    throw err;
  }
}

class OrderGone extends Error {}

/** Rejects or expires a pending offer; returns its order and rider, or undefined if it was no longer pending. */
export async function closeOffer(db: Knex, offerId: string, outcome: 'REJECTED' | 'EXPIRED', riderId?: string): Promise<{ orderId: string; riderId: string } | undefined> {
  const query = db('dispatch_offers').where({ id: offerId, status: 'PENDING' });
  if (riderId) query.where({ rider_id: riderId });
  if (outcome === 'EXPIRED') query.where('expires_at', '<=', db.fn.now());
  const [offer] = await query.update({ status: outcome, decided_at: db.fn.now() }).returning<OfferRow[]>('*');
  if (!offer) return undefined;
  await db('dispatches').where({ order_id: offer.order_id, status: 'OFFERED' }).update({ status: 'SEARCHING', updated_at: db.fn.now() });
  await recordEvent(db, offer.order_id, outcome === 'REJECTED' ? 'rejected' : 'expired', offer.rider_id, { offerId });
  return { orderId: offer.order_id, riderId: offer.rider_id };
}

/** True when the rider holds an order that is not over. */
export async function hasActiveOrder(db: Knex, riderId: string): Promise<boolean> {
  return Boolean(await db('orders').where({ rider_id: riderId }).whereNotIn('status', ['DELIVERED', 'REJECTED', 'CANCELLED']).first('id'));
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

export async function getOffer(db: Knex, offerId: string): Promise<OfferRow | undefined> {
  return db('dispatch_offers').where({ id: offerId }).first<OfferRow | undefined>();
}
