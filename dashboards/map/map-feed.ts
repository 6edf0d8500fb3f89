import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import { listFraudAlerts } from '../../db/fraud-alerts-repository.ts';
import { openOrdersForMap } from '../../db/ops-map-repository.ts';
import { countByStatus, densityByCell, diffFleet, MAP_STATUSES, packFleet, type CellDensity, type MapOrder, type MapRider, type MapRiderStatus, type PackedFleet } from '../../domain/ops-map/fleet-view.ts';
import { fraudAlertChannel } from '../../location/fraud-check.ts';
import type { ChannelHub } from '../../runtime/channel-hub.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { QueueSet } from '../../runtime/queues.ts';
import { BULL_BOARD_PATH } from '../bull-board.ts';
import { createFleetReader } from './fleet-reader.ts';

/** One frame a second: the map's "live". */
export const FRAME_MS = 1_000;
/** Queue counts cost a round trip per queue; every other frame is plenty. */
const QUEUE_EVERY = 2;
/** Open orders drawn at most (newest first). */
const ORDER_LIMIT = 2_000;
/** Alerts shown when the map opens, and kept while it runs. */
const ALERT_WINDOW_MS = 30 * 60_000;
const ALERT_KEEP = 50;
/**
 * The loop keeps running this long after the last viewer leaves, so a reloaded map (or one opened
 * on a second screen) gets its snapshot from memory instead of starting the loop again.
 */
const LINGER_MS = 30_000;

export interface MapAlert {
  id: string;
  riderId: string;
  rule: string;
  severity: string;
  detail: string;
  recordedAt: string;
}

export interface QueueHealth {
  id: string;
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** This queue's page in Bull Board. */
  href: string;
}

export interface MapSnapshot {
  at: number;
  riders: MapRider[];
  counts: ReturnType<typeof countByStatus>;
  orders: MapOrder[];
  cells: CellDensity[];
  alerts: MapAlert[];
  queues: QueueHealth[];
  tileUrl: string | null;
}

/** The stream's first event: the snapshot with its riders packed in columns (status digits index `statuses`). */
export interface MapStreamSnapshot extends Omit<MapSnapshot, 'riders'> {
  riders: PackedFleet;
  statuses: readonly MapRiderStatus[];
}

/** A frame: only riders that changed since the previous one (packed); orders, cells and counts whole. */
export interface MapFrame {
  at: number;
  changed: PackedFleet;
  removed: string[];
  counts: ReturnType<typeof countByStatus>;
  orders: MapOrder[];
  cells: CellDensity[];
  queues?: QueueHealth[];
}

/** Every viewer is handed the same frame and alert objects, so a sender can serialise each once. */
export type MapViewer = (event: 'snapshot' | 'frame' | 'alert', data: MapStreamSnapshot | MapFrame | MapAlert) => void;

export interface MapFeedDeps {
  redis: Redis;
  db: Knex;
  queues: QueueSet;
  logger: Logger;
  prefix: string;
  tileUrl: string | null;
  /** Opened on the first viewer, so a process nobody watches the map from never subscribes. */
  hub(): ChannelHub;
  /** How long the loop outlives its last viewer (default 30 s). */
  lingerMs?: number;
}

export interface MapFeed {
  /** The whole picture, read now. */
  snapshot(): Promise<MapSnapshot>;
  /** Sends the viewer a (packed) snapshot, then a frame every second and each fraud alert as it happens. */
  watch(viewer: MapViewer): Promise<() => void>;
}

/**
 * The ops map's data. While anyone watches, one loop reads the fleet, open orders and queues
 * once per frame for all viewers, and fraud alerts are relayed from their channel as they are
 * published, without waiting for a frame.
 */
export function createMapFeed(deps: MapFeedDeps): MapFeed {
  const fleet = createFleetReader(deps.redis, deps.prefix);
  const viewers = new Set<MapViewer>();
  let riders = new Map<string, MapRider>();
  let orders: MapOrder[] = [];
  // Of the last frame: a viewer who joins is sent these instead of counting 50,000 riders again.
  let counts = countByStatus([]);
  let cells: CellDensity[] = [];
  let queues: QueueHealth[] = [];
  let alerts: MapAlert[] = [];
  let frameNo = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopAlerts: (() => Promise<void>) | undefined;
  let starting: Promise<void> | undefined;
  let lingering: NodeJS.Timeout | undefined;

  const readQueues = () =>
    Promise.all(
      deps.queues.all().map(async ({ id, label, queue }) => {
        const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
        return { id, name: label, waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0, href: `${BULL_BOARD_PATH}/queue/${encodeURIComponent(queue.name)}` };
      }),
    );
  const readAlerts = async () => {
    const rows = await listFraudAlerts(deps.db, { since: new Date(Date.now() - ALERT_WINDOW_MS), limit: ALERT_KEEP * 4 });
    return rows
      .filter((r) => r.alert)
      .slice(0, ALERT_KEEP)
      .map((r) => ({ id: String(r.id), riderId: r.rider_id, rule: r.rule, severity: r.severity, detail: r.detail, recordedAt: r.recorded_at.toISOString() }));
  };
  const assemble = (at: number): MapSnapshot => ({ at, riders: [...riders.values()], counts, orders, cells, alerts, queues, tileUrl: deps.tileUrl });

  async function frame(): Promise<MapFrame> {
    const at = Date.now();
    const [next, open, health] = await Promise.all([fleet.read(at), openOrdersForMap(deps.db, ORDER_LIMIT), frameNo % QUEUE_EVERY === 0 ? readQueues() : undefined]);
    frameNo += 1;
    const { changed, removed } = diffFleet(riders, next);
    riders = next;
    orders = open;
    if (health) queues = health;
    const list = [...next.values()];
    counts = countByStatus(list);
    cells = densityByCell(list, orders);
    return { at, changed: packFleet(changed), removed, counts, orders, cells, ...(health ? { queues: health } : {}) };
  }

  // Bumped when the last viewer leaves, so a frame still in flight then cannot restart an old loop.
  let generation = 0;
  let inflight: Promise<unknown> = Promise.resolve();
  function loop(): void {
    const mine = generation;
    timer = setTimeout(async () => {
      try {
        const f = await (inflight = frame());
        if (mine === generation) for (const viewer of viewers) viewer('frame', f);
      } catch (err) {
        deps.logger.warn({ err }, 'ops map frame failed');
      }
      if (mine === generation) loop();
    }, FRAME_MS);
    timer.unref();
  }

  function onAlert(message: string): void {
    let alert: MapAlert;
    try {
      const raw = JSON.parse(message) as MapAlert;
      alert = { id: String(raw.id), riderId: String(raw.riderId), rule: String(raw.rule), severity: String(raw.severity), detail: String(raw.detail ?? ''), recordedAt: String(raw.recordedAt) };
    } catch {
      return;
    }
    alerts = [alert, ...alerts.filter((a) => a.id !== alert.id)].slice(0, ALERT_KEEP);
    for (const viewer of viewers) viewer('alert', alert);
  }

  async function start(): Promise<void> {
    // A frame of a loop that just stopped must land before the new snapshot is taken.
    await inflight.catch(() => {});
    // All at once: on a cold process the first frame reads the whole fleet, the slow part.
    frameNo = 0; // so this frame reads the queues too
    const [stop, recent] = await Promise.all([deps.hub().listen(fraudAlertChannel(deps.prefix), onAlert), readAlerts(), frame()]);
    stopAlerts = stop;
    // Alerts relayed while the list was read are newer than it.
    const relayed = new Set(alerts.map((a) => a.id));
    alerts = [...alerts, ...recent.filter((a) => !relayed.has(a.id))].slice(0, ALERT_KEEP);
  }

  function stop(): void {
    generation += 1;
    clearTimeout(timer);
    timer = undefined;
    const unlisten = stopAlerts;
    stopAlerts = undefined;
    alerts = [];
    void unlisten?.();
  }

  return {
    async snapshot() {
      // While the loop runs (viewers, or lingering after them) the picture is at most a frame old.
      if (timer) return assemble(Date.now());
      const at = Date.now();
      const [list, open, health, recent] = await Promise.all([fleet.read(at), openOrdersForMap(deps.db, ORDER_LIMIT), readQueues(), readAlerts()]);
      const all = [...list.values()];
      return { at, riders: all, counts: countByStatus(all), orders: open, cells: densityByCell(all, open), alerts: recent, queues: health, tileUrl: deps.tileUrl };
    },
    async watch(viewer) {
      clearTimeout(lingering);
      lingering = undefined;
      if (!timer && !starting) {
        starting = start().finally(() => (starting = undefined));
        try {
          await starting;
        } catch (err) {
          await stopAlerts?.();
          stopAlerts = undefined;
          throw err;
        }
        loop();
      } else if (starting) {
        await starting;
      }
      // Registered and sent its snapshot in one step: the next frame's delta is against exactly that.
      viewers.add(viewer);
      const whole = assemble(Date.now());
      viewer('snapshot', { ...whole, riders: packFleet(whole.riders), statuses: MAP_STATUSES });
      return () => {
        viewers.delete(viewer);
        if (viewers.size === 0 && !lingering) {
          lingering = setTimeout(() => {
            lingering = undefined;
            if (viewers.size === 0) stop();
          }, deps.lingerMs ?? LINGER_MS);
          lingering.unref();
        }
      };
    },
  };
}
