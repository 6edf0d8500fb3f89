import type { LatLng } from '../../domain/location/geo.ts';
import type { SimSession } from './api-client.ts';
import { sleep } from './clock.ts';
import { advance, cruisingSpeed, gpsFix, randomPointNear, streetPath } from './movement.ts';
import type { OrderBook } from './order-book.ts';
import { between, type Random } from './random.ts';
import type { RiderPhase, SimStats } from './stats.ts';

/** How riders answer offers. The rest of the offers are left to time out. */
export interface OfferBehaviour {
  /** Default 0.75. */
  accept: number;
  /** Default 0.1. */
  reject: number;
}

export interface RiderDeps {
  api: SimSession;
  random: Random;
  stats: SimStats;
  orders: OrderBook;
  offers: OfferBehaviour;
  /** How often the app posts its position. Default 3 s (seed 001). */
  postEveryMs: number;
  signal: AbortSignal;
}

const TICK_MS = 1_000;
const POLL_MS = 2_000;

/**
 * One rider's shift against the real API: go available, wander while idle, poll offers and
 * answer them (or not), ride to the restaurant, wait for the food, ride to the customer, deliver.
 * The position advances every second and is posted every `postEveryMs`.
 */
export class SimRider {
  phase: RiderPhase = 'idle';
  #position: LatLng;
  #path: LatLng[] = [];
  #speed = 0;
  #heading: number | null = null;
  #parkedUntil = 0;
  #lastPost = 0;
  #lastPoll = 0;
  #seen = new Set<string>();
  #decision: { offerId: string; accept: boolean; at: number } | undefined;
  #order: { id: string; restaurant: LatLng; dropoff: LatLng } | undefined;
  readonly #home: LatLng;

  constructor(
    readonly id: string,
    start: LatLng,
    private readonly deps: RiderDeps,
  ) {
    this.#position = start;
    this.#home = start;
  }

  async run(): Promise<void> {
    const { api, signal } = this.deps;
    await this.#post(Date.now());
    await api.put('/v1/riders/me/status', { status: 'available' });
    while (await sleep(TICK_MS, signal)) {
      const now = Date.now();
      this.#move(TICK_MS / 1000, now);
      if (now - this.#lastPost >= this.deps.postEveryMs) await this.#post(now);
      await this.#act(now);
    }
  }

  #move(seconds: number, now: number): void {
    if (this.phase === 'idle' && this.#path.length === 0 && now >= this.#parkedUntil) {
      // Idle riders drift around their patch, or park for a while, as riders waiting for work do.
      if (this.deps.random() < 0.4) this.#parkedUntil = now + between(this.deps.random, 5_000, 30_000);
      else {
        this.#path = streetPath(this.deps.random, this.#position, randomPointNear(this.deps.random, this.#home, 800));
        this.#speed = between(this.deps.random, 3, 5);
      }
    }
    if (this.#path.length === 0 || this.phase === 'at-restaurant') {
      this.#speed = 0;
      return;
    }
    const step = advance(this.#position, this.#path, this.#speed * seconds);
    this.#position = step.position;
    this.#heading = step.heading ?? this.#heading;
    this.#path = step.path;
  }

  async #post(now: number): Promise<void> {
    this.#lastPost = now;
    const accuracy = Math.round(between(this.deps.random, 4, 12));
    const fix = gpsFix(this.deps.random, this.#position, accuracy);
    const res = await this.deps.api.post('/v1/riders/me/locations', {
      points: [{ lat: fix.lat, lng: fix.lng, recordedAt: new Date(now).toISOString(), speed: Number(this.#speed.toFixed(1)), heading: this.#heading === null ? null : Math.round(this.#heading) % 360, accuracy }],
    });
    if (res.status === 202) this.deps.stats.points += 1;
  }

  async #act(now: number): Promise<void> {
    switch (this.phase) {
      case 'idle':
        return this.#answerOffers(now);
      case 'to-restaurant':
        if (this.#path.length === 0) this.phase = 'at-restaurant';
        return;
      case 'at-restaurant':
        return this.#waitForFood(now);
      case 'to-customer':
        if (this.#path.length === 0) return this.#deliver(now);
    }
  }

  async #answerOffers(now: number): Promise<void> {
    const { api, random, stats, offers } = this.deps;
    if (this.#decision && now >= this.#decision.at) {
      const { offerId, accept } = this.#decision;
      this.#decision = undefined;
      if (!accept) {
        const res = await api.post(`/v1/offers/${offerId}/reject`, {});
        if (res.status === 200) stats.offers.rejected += 1;
        else stats.offers.lost += 1;
        return;
      }
      const res = await api.post<{ orderId: string }>(`/v1/offers/${offerId}/accept`, {});
      if (res.status !== 200) {
        stats.offers.lost += 1;
        return;
      }
      stats.offers.accepted += 1;
      const view = await api.get<{ restaurant: LatLng; dropoff: LatLng }>(`/v1/orders/${res.body.orderId}/tracking`);
      if (view.status !== 200) return;
      this.#order = { id: res.body.orderId, restaurant: view.body.restaurant, dropoff: view.body.dropoff };
      this.#path = streetPath(random, this.#position, this.#order.restaurant);
      this.#speed = cruisingSpeed(random);
      this.#parkedUntil = 0;
      this.phase = 'to-restaurant';
      return;
    }
    if (this.#decision || now - this.#lastPoll < POLL_MS) return;
    this.#lastPoll = now;
    const res = await api.get<{ offers: Array<{ id: string; expiresAt: string }> }>('/v1/riders/me/offers');
    for (const offer of res.status === 200 ? res.body.offers : []) {
      if (this.#seen.has(offer.id)) continue;
      this.#seen.add(offer.id);
      stats.offers.seen += 1;
      const roll = random();
      if (roll < offers.accept + offers.reject && !this.#decision) {
        // People take a moment to read an offer, well inside the accept window.
        this.#decision = { offerId: offer.id, accept: roll < offers.accept, at: now + between(random, 1_000, 5_000) };
      } else {
        stats.offers.ignored += 1;
      }
    }
  }

  async #waitForFood(now: number): Promise<void> {
    if (now - this.#lastPoll < POLL_MS || !this.#order) return;
    this.#lastPoll = now;
    const { api, random, stats } = this.deps;
    const order = await api.get<{ status: string }>(`/v1/orders/${this.#order.id}`);
    if (order.status !== 200) return;
    if (order.body.status === 'CANCELLED' || order.body.status === 'REJECTED') return this.#free();
    if (order.body.status !== 'READY_FOR_PICKUP') return;
    if ((await api.post(`/v1/orders/${this.#order.id}/transitions`, { to: 'PICKED_UP' })).status !== 200) return;
    stats.orders.pickedUp += 1;
    await api.post(`/v1/orders/${this.#order.id}/transitions`, { to: 'DELIVERING' });
    this.#path = streetPath(random, this.#position, this.#order.dropoff);
    this.#speed = cruisingSpeed(random);
    this.phase = 'to-customer';
  }

  async #deliver(now: number): Promise<void> {
    const res = await this.deps.api.post(`/v1/orders/${this.#order!.id}/transitions`, { to: 'DELIVERED' });
    if (res.status === 200) {
      this.deps.stats.orders.delivered += 1;
      const placedAt = this.deps.orders.finish(this.#order!.id);
      if (placedAt !== undefined) this.deps.stats.deliveryMs.push(now - placedAt);
    }
    this.#free();
  }

  #free(): void {
    this.#order = undefined;
    this.#path = [];
    this.phase = 'idle';
  }

  /** The order this rider holds, if any. */
  get orderId(): string | undefined {
    return this.#order?.id;
  }
}
