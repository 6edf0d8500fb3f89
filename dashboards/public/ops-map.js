// The ops live map: one EventSource (a snapshot, then a frame a second and every fraud alert as it
// happens), drawn on a canvas in Web Mercator with a light grid of the geo-index cells.
import { createGlide, fitView, project, toScreen, unproject } from './geo.js';

const COLORS = { available: '#16a34a', busy: '#f59e0b', stale: '#9ca3af', offline: '#e5e7eb' };
const ORDER_COLORS = { PLACED: '#6366f1', COOKING: '#8b5cf6', READY_FOR_PICKUP: '#ec4899', PICKED_UP: '#0ea5e9', DELIVERING: '#0284c7' };
/** A rider with an alert stays ringed this long. */
const ALERT_RING_MS = 5 * 60_000;

const canvas = document.getElementById('map');
const ctx = canvas.getContext('2d');
const state = {
  riders: new Map(), // id -> { rider, glide }
  orders: [],
  cells: [],
  alerts: [],
  queues: [],
  counts: { available: 0, busy: 0, stale: 0, offline: 0 },
  tileUrl: null,
  view: null,
  frames: 0,
  lastFrameAt: 0,
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
  const points = [...state.riders.values()].map((r) => r.rider);
  for (const o of state.orders) points.push(o.restaurant, o.dropoff);
  state.view = fitView(points, w, h, 50, 16);
}

// --- data -------------------------------------------------------------------------------------

function upsertRider(rider, now) {
  let entry = state.riders.get(rider.id);
  if (!entry) {
    entry = { rider, glide: createGlide({ maxMs: 900 }) };
    state.riders.set(rider.id, entry);
  }
  entry.rider = rider;
  entry.glide.target(rider, now);
}

function onSnapshot(s) {
  const now = performance.now();
  state.riders.clear();
  for (const r of s.riders) upsertRider(r, now);
  Object.assign(state, { orders: s.orders, cells: s.cells, alerts: s.alerts, queues: s.queues, counts: s.counts, tileUrl: s.tileUrl });
  state.lastFrameAt = Date.now();
  if (!state.view) fit();
  renderSide();
  renderQueues();
}

function onFrame(f) {
  const now = performance.now();
  for (const r of f.changed) upsertRider(r, now);
  for (const id of f.removed) state.riders.delete(id);
  Object.assign(state, { orders: f.orders, cells: f.cells, counts: f.counts });
  if (f.queues) {
    state.queues = f.queues;
    renderQueues();
  }
  state.frames += 1;
  state.lastFrameAt = Date.now();
  // A map opened on an empty fleet fits itself once there is something to show.
  if (state.frames < 5 && state.riders.size > 0 && state.autoFit !== false) fit();
  renderSide();
}

function onAlert(a) {
  state.alerts = [a, ...state.alerts.filter((x) => x.id !== a.id)].slice(0, 50);
  a.receivedAt = Date.now();
  renderSide(a.id);
}

function connect() {
  const live = el('live');
  const source = new EventSource('/v1/admin/map/stream');
  source.addEventListener('snapshot', (e) => onSnapshot(JSON.parse(e.data)));
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
}

// --- drawing ----------------------------------------------------------------------------------

const tiles = new Map();
function tile(z, x, y) {
  const key = `${z}/${x}/${y}`;
  let img = tiles.get(key);
  if (!img) {
    img = new Image();
    img.src = state.tileUrl.replace('{z}', z).replace('{x}', x).replace('{y}', y);
    tiles.set(key, img);
    if (tiles.size > 400) tiles.delete(tiles.keys().next().value);
  }
  return img.complete && img.naturalWidth > 0 ? img : null;
}

function drawTiles(w, h) {
  const v = state.view;
  const z = Math.max(0, Math.min(19, Math.round(v.zoom)));
  const k = 2 ** v.zoom;
  const tileSize = (256 / 2 ** z) * k; // one tile at zoom z, in screen px
  const left = v.x - w / 2 / k;
  const top = v.y - h / 2 / k;
  const n = 2 ** z;
  for (let tx = Math.floor((left * n) / 256); tx <= Math.floor(((left + w / k) * n) / 256); tx++) {
    for (let ty = Math.floor((top * n) / 256); ty <= Math.floor(((top + h / k) * n) / 256); ty++) {
      if (tx < 0 || ty < 0 || tx >= n || ty >= n) continue;
      const img = tile(z, tx, ty);
      if (img) ctx.drawImage(img, ((tx * 256) / n - left) * k, ((ty * 256) / n - top) * k, tileSize + 0.5, tileSize + 0.5);
    }
  }
}

/** Lines along the geo-index cells (0.01° × 0.0125°), or a coarser grid when they would crowd. */
function drawGrid(w, h) {
  const v = state.view;
  const k = 2 ** v.zoom;
  const nw = unproject(v.x - w / 2 / k, v.y - h / 2 / k);
  const se = unproject(v.x + w / 2 / k, v.y + h / 2 / k);
  let dLat = 0.01;
  let dLng = 0.0125;
  while (Math.abs(toScreen(v, 0, dLng, w, h).x - toScreen(v, 0, 0, w, h).x) < 18) {
    dLat *= 5;
    dLng *= 5;
  }
  ctx.strokeStyle = 'rgba(100,116,139,.16)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let lng = Math.floor(nw.lng / dLng) * dLng; lng <= se.lng; lng += dLng) {
    const x = Math.round(toScreen(v, nw.lat, lng, w, h).x) + 0.5;
    ctx.moveTo(x, 0);
    ctx.lineTo(x, h);
  }
  for (let lat = Math.floor(se.lat / dLat) * dLat; lat <= nw.lat; lat += dLat) {
    const y = Math.round(toScreen(v, lat, nw.lng, w, h).y) + 0.5;
    ctx.moveTo(0, y);
    ctx.lineTo(w, y);
  }
  ctx.stroke();
}

function drawCells(w, h) {
  const max = Math.max(1, ...state.cells.map((c) => c.riders + c.orders));
  for (const c of state.cells) {
    const a = toScreen(state.view, c.south + c.dLat, c.west, w, h);
    const b = toScreen(state.view, c.south, c.west + c.dLng, w, h);
    const heat = (c.riders + c.orders) / max;
    ctx.fillStyle = `rgba(239, 68, 68, ${0.06 + 0.3 * heat})`;
    ctx.fillRect(a.x, a.y, b.x - a.x, b.y - a.y);
    if (b.x - a.x > 72) {
      ctx.fillStyle = '#7f1d1d';
      ctx.font = '11px system-ui, sans-serif';
      ctx.fillText(`${c.riders} r · ${c.orders} o`, a.x + 4, a.y + 13);
    }
  }
}

function drawOrders(w, h) {
  for (const o of state.orders) {
    const color = ORDER_COLORS[o.status] ?? '#64748b';
    const a = toScreen(state.view, o.restaurant.lat, o.restaurant.lng, w, h);
    const b = toScreen(state.view, o.dropoff.lat, o.dropoff.lng, w, h);
    ctx.strokeStyle = color;
    ctx.globalAlpha = 0.7;
    ctx.setLineDash([5, 4]);
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
    ctx.fillStyle = color;
    ctx.fillRect(a.x - 4, a.y - 4, 8, 8);
    ctx.beginPath();
    ctx.arc(b.x, b.y, 3.5, 0, Math.PI * 2);
    ctx.fill();
  }
}

function drawRiders(w, h, now) {
  const alerted = new Map();
  for (const a of state.alerts) {
    const age = Date.now() - (a.receivedAt ?? Date.parse(a.recordedAt));
    if (age < ALERT_RING_MS && !alerted.has(a.riderId)) alerted.set(a.riderId, a);
  }
  const order = ['stale', 'available', 'busy'];
  const entries = [...state.riders.values()].sort((x, y) => order.indexOf(x.rider.status) - order.indexOf(y.rider.status));
  for (const { rider, glide } of entries) {
    if (rider.status === 'offline') continue;
    const at = glide.at(now) ?? rider;
    const p = toScreen(state.view, at.lat, at.lng, w, h);
    if (p.x < -20 || p.y < -20 || p.x > w + 20 || p.y > h + 20) continue;
    ctx.fillStyle = COLORS[rider.status];
    ctx.strokeStyle = rider.status === 'offline' ? '#9ca3af' : '#fff';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(p.x, p.y, 5, 0, Math.PI * 2);
    ctx.fill();
    ctx.stroke();
    const alert = alerted.get(rider.id);
    if (alert) {
      const pulse = 9 + 3 * Math.sin(now / 180);
      ctx.strokeStyle = '#dc2626';
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      ctx.arc(p.x, p.y, pulse, 0, Math.PI * 2);
      ctx.stroke();
      ctx.font = 'bold 12px system-ui, sans-serif';
      const label = `! ${alert.rule} · ${rider.id}`;
      const width = ctx.measureText(label).width;
      ctx.fillStyle = 'rgba(220, 38, 38, .92)';
      ctx.fillRect(p.x + 12, p.y - 22, width + 10, 18);
      ctx.fillStyle = '#fff';
      ctx.fillText(label, p.x + 17, p.y - 9);
    }
  }
  ctx.lineWidth = 1;
}

function draw() {
  const { w, h, dpr } = size();
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#f8fafc';
  ctx.fillRect(0, 0, w, h);
  if (state.view) {
    if (state.tileUrl) drawTiles(w, h);
    drawGrid(w, h);
    if (el('show-cells').checked) drawCells(w, h);
    if (el('show-orders').checked) drawOrders(w, h);
    drawRiders(w, h, performance.now());
  }
  requestAnimationFrame(draw);
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
  },
  { passive: false },
);
el('fit').onclick = () => {
  state.autoFit = true;
  fit();
};

connect();
requestAnimationFrame(draw);
