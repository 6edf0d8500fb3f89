import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createSimApi } from './api-client.ts';
import { sleep } from './clock.ts';
import { HOTSPOTS, SEOUL_CENTRE } from './hotspots.ts';
import { runOrder, type KitchenDeps } from './kitchen.ts';
import { OrderBook } from './order-book.ts';
import { nextArrivalMs, seededRandom } from './random.ts';
import { SimRider, type OfferBehaviour } from './rider.ts';
import { newStats, progressLine, summary, type RiderPhase, type SimStats } from './stats.ts';
import { riderStart, type SimMenuItem, type SimRestaurant, type World } from './world.ts';

export interface SimulationOptions {
  /** The API of a running deligo, e.g. http://localhost:3000. */
  baseUrl: string;
  /** The API's JWT secret: the simulation signs its own riders', customers' and restaurants' tokens. */
  secret: string;
  riders: number;
  ordersPerMinute: number;
  /** A key of HOTSPOTS, or null to spread over the city. */
  hotspot: string | null;
  durationMs: number;
  /** Default: random. The same seed replays the same choices. */
  seed?: number;
  /** Default accept 0.75, reject 0.1; the rest time out. */
  offers?: OfferBehaviour;
  /** Default 3000. */
  postEveryMs?: number;
  /** Default 2 (a 15-minute cook takes 30 s). */
  cookSecondsPerMinute?: number;
  /** Prefix of the ids of this run's riders and customers. Default: random. */
  runId?: string;
  /** Called every second with the live line. */
  onProgress?(line: string): void;
  /** Stops the run early (Ctrl-C); it still cleans up and reports. */
  signal?: AbortSignal;
}

export interface SimulationResult {
  stats: SimStats;
  riderIds: string[];
  leftOpen: number;
  summary: string;
}

/** A problem that stops the simulation before it starts, said in one line. */
export class SimulationError extends Error {
  override name = 'SimulationError';
}

/**
 * Runs riders, customers and restaurants against a live deligo through its HTTP API, then
 * closes what is still open (open orders are cancelled by an admin, riders go offline) and
 * reports.
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const random = seededRandom(options.seed ?? randomBytes(4).readUInt32LE());
  const runId = options.runId ?? randomBytes(3).toString('hex');
  const stats = newStats(Date.now());
  const api = createSimApi({ baseUrl: options.baseUrl.replace(/\/$/, ''), secret: options.secret, ttl: `${Math.ceil(options.durationMs / 3_600_000) + 1}h`, stats, random });
  const admin = await api.as('admin', `sim-${runId}-ops`);

  const health = await fetch(`${options.baseUrl}/healthz`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  if (!health?.ok) throw new SimulationError(`no deligo API answers at ${options.baseUrl}: run \`npm start\`, or pass --api`);
  const centre = options.hotspot ? HOTSPOTS[options.hotspot]! : SEOUL_CENTRE;
  const listing = await admin.get<{ restaurants: SimRestaurant[] }>(`/v1/restaurants?lat=${centre.lat}&lng=${centre.lng}&radius=20000&limit=200`);
  if (listing.status === 401 || listing.status === 403) throw new SimulationError(`the API at ${options.baseUrl} refused our tokens (${listing.status}): is JWT_SECRET the same here as there?`);
  const restaurants = listing.status === 200 ? listing.body.restaurants.filter((r) => r.open !== false) : [];
  if (restaurants.length === 0) throw new SimulationError('no restaurants to order from: run `npx deligo seed` first');
  const world: World = { restaurants, hotspot: options.hotspot ? centre : null };

  const stop = new AbortController();
  // Every rider and order sleeps on this one signal.
  setMaxListeners(0, stop.signal);
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const orders = new OrderBook();
  const riders: SimRider[] = [];
  for (let i = 1; i <= options.riders; i++) {
    const id = `sim-${runId}-r${i}`;
    const session = await api.as('rider', id);
    riders.push(new SimRider(id, riderStart(random, world), { api: session, random, stats, orders, offers: options.offers ?? { accept: 0.75, reject: 0.1 }, postEveryMs: options.postEveryMs ?? 3_000, signal: stop.signal }));
  }
  // Riders join over the first seconds rather than all in one instant.
  const shifts = riders.map(async (rider, i) => {
    if (await sleep((i / Math.max(1, riders.length)) * Math.min(3_000, options.durationMs / 4), stop.signal)) await rider.run();
  });

  const kitchen: KitchenDeps = { api, world, random, stats, orders, cookSecondsPerMinute: options.cookSecondsPerMinute ?? 2, customers: Math.max(10, options.riders * 5), runId, signal: stop.signal };
  const menus = new Map<string, Promise<SimMenuItem[]>>();
  const placing: Array<Promise<void>> = [];
  const customers = (async () => {
    let n = 0;
    while (options.ordersPerMinute > 0 && (await sleep(nextArrivalMs(random, options.ordersPerMinute), stop.signal))) {
      placing.push(runOrder(kitchen, menus, ++n).catch(() => {}));
    }
  })();

  const phases = () => {
    const counts: Record<RiderPhase, number> = { idle: 0, 'to-restaurant': 0, 'at-restaurant': 0, 'to-customer': 0 };
    for (const r of riders) counts[r.phase] += 1;
    return counts;
  };
  const progress = setInterval(() => options.onProgress?.(progressLine(stats, phases(), Date.now(), options.durationMs)), 1_000);
  const deadline = setTimeout(() => stop.abort(), options.durationMs);
  try {
    await Promise.allSettled([customers, ...shifts]);
    await Promise.allSettled(placing);
  } finally {
    clearTimeout(deadline);
    clearInterval(progress);
    options.signal?.removeEventListener('abort', onAbort);
  }
  options.onProgress?.(progressLine(stats, phases(), Date.now(), options.durationMs));

  // Leave nothing behind: a demo run's orders and riders should not linger on the map.
  const open = orders.open();
  for (const order of open) {
    const res = await admin.post(`/v1/orders/${order.id}/transitions`, { to: 'CANCELLED', reason: '시뮬레이션 종료' });
    if (res.status === 200) stats.orders.cancelled += 1;
  }
  await Promise.all(riders.map(async (r) => (await api.as('rider', r.id)).put('/v1/riders/me/status', { status: 'offline' })));
  const now = Date.now();
  return { stats, riderIds: riders.map((r) => r.id), leftOpen: open.length, summary: summary(stats, now, open.length) };
}
