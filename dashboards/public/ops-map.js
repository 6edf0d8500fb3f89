// The ops live map: one EventSource (a snapshot, then a frame a second and every fraud alert as it
// happens), drawn on a canvas in Web Mercator with a light grid of the geo-index cells.
// Built for a fleet of tens of thousands: riders arrive packed in columns (PackedFleet in
// domain/ops-map/fleet-view.ts) and are projected once per fix; the server already coalesces changes into one frame a second, and the
// canvas is redrawn on animation frames only while something changed or moves.
import { fitBounds, fitView, glideDuration, project } from './geo.js';
import { drawCells, drawGrid, drawOrders, drawRiders, drawTiles, riderAt } from './map-layers.js';


const canvas = document.getElementById('map');
const ctx = canvas.getContext('2d');
const state = {
  riders: new Map(), // id -> { rider: { id, lat, lng, status }, x, y: world px of the fix, fx, fy: glide start, t0, dur, fixAt }
  statuses: ['available', 'busy', 'stale', 'offline'],
  orders: [],
  cells: [],
  alerts: [],
  queues: [],
  counts: { available: 0, busy: 0, stale: 0, offline: 0 },
  tileUrl: null,
  view: null,
  frames: 0,
  lastFrameAt: 0,
  dirty: true,
  drawMs: 0, // the last canvas redraw, for the curious and for bench/pages
  timing: {}, // ms since navigation: when the snapshot arrived and when it was applied (bench/pages)
};
// Tests and curious operators can read what the map holds.
window.deligoMap = state;

const el = (id) => document.getElementById(id);

function size() {
  const r = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(r.width * dpr) || canvas.height !== Math.round(r.height * dpr)) {
    canvas.width = Math.round(r.width * dpr);
    canvas.height = Math.round(r.height * dpr);
  }
  return { w: r.width, h: r.height, dpr };
}

function fit() {
  const { w, h } = size();
  if (state.riders.size === 0 && state.orders.length === 0) return void (state.view = fitView([], w, h, 50, 16));
  // From the positions already projected: no second pass of projections over the whole fleet.
  const box = { minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity };
  const add = ({ x, y }) => {
    box.minX = Math.min(box.minX, x);
    box.maxX = Math.max(box.maxX, x);
    box.minY = Math.min(box.minY, y);
    box.maxY = Math.max(box.maxY, y);
  };
  for (const r of state.riders.values()) add(r);
  for (const o of state.orders) {
    add(project(o.restaurant.lat, o.restaurant.lng));
    add(project(o.dropoff.lat, o.dropoff.lng));
  }
  state.view = fitBounds(box, w, h, 50, 16);
}

// --- data -------------------------------------------------------------------------------------

const scratch = { x: 0, y: 0 };

/** Each rider of a packed fleet: a new one appears at its fix, a known one glides there from where it is drawn. */
function upsertFleet(packed, now) {
  const [lat0, lng0] = packed.origin;
  for (let i = 0; i < packed.ids.length; i++) {
    upsertRider(packed.ids[i], (packed.lat[i] + lat0) / 1e5, (packed.lng[i] + lng0) / 1e5, state.statuses[packed.status.charCodeAt(i) - 48] ?? 'offline', now);
  }
}

function upsertRider(id, lat, lng, status, now) {
  const rider = { id, lat, lng, status };
  const p = project(lat, lng);
  let entry = state.riders.get(id);
  if (!entry) {
    state.riders.set(id, { rider, x: p.x, y: p.y, fx: p.x, fy: p.y, t0: now, dur: 0, fixAt: now });
    return;
  }
  riderAt(entry, now, scratch);
  Object.assign(entry, { rider, fx: scratch.x, fy: scratch.y, x: p.x, y: p.y, t0: now, dur: glideDuration(now - entry.fixAt, 900), fixAt: now });
}

function onSnapshot(s) {
  const now = performance.now();
  state.timing.snapshot ??= now;
  state.riders.clear();
  if (s.statuses) state.statuses = s.statuses;
  upsertFleet(s.riders, now);
  Object.assign(state, { orders: s.orders, cells: s.cells, alerts: s.alerts, queues: s.queues, counts: s.counts, tileUrl: s.tileUrl });
  state.lastFrameAt = Date.now();
  state.dirty = true;
  if (!state.view) fit();
  renderSide();
  renderQueues();
  state.timing.applied ??= performance.now();
}

function onFrame(f) {
  const now = performance.now();
  upsertFleet(f.changed, now);
  for (const id of f.removed) state.riders.delete(id);
  Object.assign(state, { orders: f.orders, cells: f.cells, counts: f.counts });
  if (f.queues) {
    state.queues = f.queues;
    renderQueues();
  }
  state.frames += 1;
  state.lastFrameAt = Date.now();
  state.dirty = true;
  // A map opened on an empty fleet fits itself once there is something to show.
  if (state.frames < 5 && state.riders.size > 0 && state.autoFit !== false) fit();
  renderSide();
}

function onAlert(a) {
  state.alerts = [a, ...state.alerts.filter((x) => x.id !== a.id)].slice(0, 50);
  a.receivedAt = Date.now();
  state.dirty = true;
  renderSide(a.id);
}

function connect() {
  const live = el('live');
  const source = new EventSource('/v1/admin/map/stream');
  source.addEventListener('snapshot', (e) => {
    state.timing.received ??= performance.now();
    onSnapshot(JSON.parse(e.data));
  });
  source.addEventListener('frame', (e) => onFrame(JSON.parse(e.data)));
  source.addEventListener('alert', (e) => onAlert(JSON.parse(e.data)));
  source.onopen = () => {
    live.dataset.state = 'live';
    live.textContent = 'live';
  };
  source.onerror = () => {
    live.dataset.state = 'down';
    live.textContent = 'reconnecting…';
  };
}

// --- side panel -------------------------------------------------------------------------------

const text = (tag, value, className) => {
  const node = document.createElement(tag);
  node.textContent = value;
  if (className) node.className = className;
  return node;
};

function renderSide(freshAlertId) {
  for (const li of el('legend').children) li.querySelector('b').textContent = String(state.counts[li.dataset.status] ?? 0);
  el('rider-total').textContent = String(state.riders.size);
  el('order-total').textContent = String(state.orders.length);
  const hot = el('hotspots');
  hot.replaceChildren(...state.cells.slice(0, 5).map((c) => text('li', `cell ${c.id}: ${c.riders} riders · ${c.orders} orders`)));
  const list = el('alerts');
  el('alert-total').textContent = String(state.alerts.length);
  list.replaceChildren(
    ...state.alerts.map((a) => {
      const li = document.createElement('li');
      li.dataset.severity = a.severity;
      li.dataset.rider = a.riderId;
      li.dataset.rule = a.rule;
      if (a.id === freshAlertId) li.className = 'fresh';
      li.append(text('span', new Date(a.recordedAt).toLocaleTimeString('ko-KR'), 'when'), text('span', a.rule, 'rule'), text('div', `rider ${a.riderId}`), text('div', a.detail));
      li.onclick = () => focusRider(a.riderId);
      return li;
    }),
  );
}

function renderQueues() {
  el('queues').replaceChildren(
    ...state.queues.map((q) => {
      const a = document.createElement('a');
      a.href = q.href;
      a.dataset.queue = q.name;
      a.dataset.failed = String(q.failed > 0);
      a.title = `${q.name}: waiting ${q.waiting}, active ${q.active}, delayed ${q.delayed}, failed ${q.failed} (open in Bull Board)`;
      a.append(text('b', q.name), text('span', `w ${q.waiting}`), text('span', `a ${q.active}`), text('span', `d ${q.delayed}`), text('span', `f ${q.failed}`, 'failed'));
      return a;
    }),
  );
}

function focusRider(id) {
  const r = state.riders.get(id);
  if (!r) return;
  const p = project(r.rider.lat, r.rider.lng);
  state.view = { x: p.x, y: p.y, zoom: Math.max(state.view.zoom, 15) };
  state.autoFit = false;
  state.dirty = true;
}

// --- drawing ----------------------------------------------------------------------------------

let nextDrawAt = 0;
let moving = false;
function draw(now) {
  requestAnimationFrame(draw);
  // Redraw only when something changed or still moves, and leave the page at least half of the
  // main thread: after a redraw of d ms, the next waits d ms.
  if (!(state.dirty || moving) || now < nextDrawAt) return;
  const started = performance.now();
  const { w, h, dpr } = size();
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#f8fafc';
  ctx.fillRect(0, 0, w, h);
  state.dirty = false;
  moving = false;
  if (state.view) {
    if (state.tileUrl) drawTiles(ctx, state, w, h);
    drawGrid(ctx, state, w, h);
    if (el('show-cells').checked) drawCells(ctx, state, w, h);
    if (el('show-orders').checked) drawOrders(ctx, state, w, h);
    moving = drawRiders(ctx, state, w, h, now) || Boolean(state.tileUrl);
  }
  state.drawMs = performance.now() - started;
  nextDrawAt = now + state.drawMs;
}

// --- pan and zoom -----------------------------------------------------------------------------

let drag = null;
canvas.addEventListener('pointerdown', (e) => {
  drag = { x: e.clientX, y: e.clientY };
  canvas.setPointerCapture(e.pointerId);
});
canvas.addEventListener('pointermove', (e) => {
  if (!drag || !state.view) return;
  const k = 2 ** state.view.zoom;
  state.view = { ...state.view, x: state.view.x - (e.clientX - drag.x) / k, y: state.view.y - (e.clientY - drag.y) / k };
  drag = { x: e.clientX, y: e.clientY };
  state.autoFit = false;
  state.dirty = true;
});
canvas.addEventListener('pointerup', () => (drag = null));
canvas.addEventListener(
  'wheel',
  (e) => {
    if (!state.view) return;
    e.preventDefault();
    const { w, h } = size();
    const r = canvas.getBoundingClientRect();
    const k = 2 ** state.view.zoom;
    // Zoom about the pointer: the world point under it stays under it.
    const wx = state.view.x + (e.clientX - r.left - w / 2) / k;
    const wy = state.view.y + (e.clientY - r.top - h / 2) / k;
    const zoom = Math.max(3, Math.min(19, state.view.zoom - e.deltaY * 0.002));
    const k2 = 2 ** zoom;
    state.view = { zoom, x: wx - (e.clientX - r.left - w / 2) / k2, y: wy - (e.clientY - r.top - h / 2) / k2 };
    state.autoFit = false;
    state.dirty = true;
  },
  { passive: false },
);
el('fit').onclick = () => {
  state.autoFit = true;
  fit();
  state.dirty = true;
};
for (const id of ['show-cells', 'show-orders']) el(id).onchange = () => (state.dirty = true);
window.addEventListener('resize', () => (state.dirty = true));

connect();
requestAnimationFrame(draw);
