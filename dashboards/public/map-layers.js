// The ops map's layers, drawn on a 2D canvas context in this order: tiles (when configured), the
// cell grid, hot-spot cells, open orders, riders. Each reads the map state and draws; no I/O.
import { easeOutCubic, toScreen, unproject } from './geo.js';

const COLORS = { available: '#16a34a', busy: '#f59e0b', stale: '#9ca3af', offline: '#e5e7eb' };
export const ORDER_COLORS = { PLACED: '#6366f1', COOKING: '#8b5cf6', READY_FOR_PICKUP: '#ec4899', PICKED_UP: '#0ea5e9', DELIVERING: '#0284c7' };
/** A rider with an alert stays ringed this long. */
const ALERT_RING_MS = 5 * 60_000;

const tiles = new Map();
function tile(state, z, x, y) {
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

export function drawTiles(ctx, state, w, h) {
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
      const img = tile(state, z, tx, ty);
      if (img) ctx.drawImage(img, ((tx * 256) / n - left) * k, ((ty * 256) / n - top) * k, tileSize + 0.5, tileSize + 0.5);
    }
  }
}

/** Lines along the geo-index cells (0.01° × 0.0125°), or a coarser grid when they would crowd. */
export function drawGrid(ctx, state, w, h) {
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

export function drawCells(ctx, state, w, h) {
  let max = 1;
  for (const c of state.cells) max = Math.max(max, c.riders + c.orders);
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

export function drawOrders(ctx, state, w, h) {
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

/** Above this many riders in view, riders are 3 px squares without an outline: one fill per colour. */
export const DENSE_RIDERS = 3_000;
const DRAW_ORDER = ['stale', 'available', 'busy'];
const buckets = { stale: [], available: [], busy: [] };

/**
 * Where a rider's marker is at `now` in world px: gliding from where it was drawn when its last
 * fix arrived to that fix (see ops-map.js aim()). Written into `out`, so 50,000 riders a frame
 * allocate nothing.
 */
export function riderAt(entry, now, out) {
  const t = entry.dur > 0 ? (now - entry.t0) / entry.dur : 1;
  if (t >= 1) {
    out.x = entry.x;
    out.y = entry.y;
    return false;
  }
  const e = easeOutCubic(t);
  out.x = entry.fx + (entry.x - entry.fx) * e;
  out.y = entry.fy + (entry.y - entry.fy) * e;
  return true;
}

/**
 * Riders: one path per colour (stale under available under busy), not one per rider, so a fleet
 * of tens of thousands draws in a few milliseconds. Positions were projected once per fix; a frame
 * only scales and shifts them. Returns whether anything still moves (a glide, an alert's pulse).
 */
export function drawRiders(ctx, state, w, h, now) {
  const v = state.view;
  const k = 2 ** v.zoom;
  const cx = w / 2 - v.x * k;
  const cy = h / 2 - v.y * k;
  for (const list of Object.values(buckets)) list.length = 0;
  const at = { x: 0, y: 0 };
  let gliding = false;
  let shown = 0;
  for (const entry of state.riders.values()) {
    const list = buckets[entry.rider.status];
    if (!list) continue; // offline: counted, not drawn
    if (riderAt(entry, now, at)) gliding = true;
    const x = at.x * k + cx;
    const y = at.y * k + cy;
    if (x < -8 || y < -8 || x > w + 8 || y > h + 8) continue;
    list.push(x, y);
    shown += 1;
  }
  const dense = shown > DENSE_RIDERS;
  for (const status of DRAW_ORDER) {
    const list = buckets[status];
    if (list.length === 0) continue;
    ctx.fillStyle = COLORS[status];
    ctx.beginPath();
    for (let i = 0; i < list.length; i += 2) {
      if (dense) ctx.rect(list[i] - 1.5, list[i + 1] - 1.5, 3, 3);
      else {
        ctx.moveTo(list[i] + 5, list[i + 1]);
        ctx.arc(list[i], list[i + 1], 5, 0, Math.PI * 2);
      }
    }
    ctx.fill();
    if (!dense) {
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 1.5;
      ctx.stroke();
    }
  }
  const ringing = drawAlertRings(ctx, state, w, h, now, k, cx, cy);
  ctx.lineWidth = 1;
  state.shown = shown;
  return gliding || ringing;
}

/** Riders with a fresh fraud alert: a pulsing red ring and a label naming the rule. */
export function drawAlertRings(ctx, state, w, h, now, k, cx, cy) {
  const done = new Set();
  const at = { x: 0, y: 0 };
  for (const alert of state.alerts) {
    const age = Date.now() - (alert.receivedAt ?? Date.parse(alert.recordedAt));
    if (age >= ALERT_RING_MS || done.has(alert.riderId)) continue;
    done.add(alert.riderId);
    const entry = state.riders.get(alert.riderId);
    if (!entry || entry.rider.status === 'offline') continue;
    riderAt(entry, now, at);
    const p = { x: at.x * k + cx, y: at.y * k + cy };
    if (p.x < -20 || p.y < -20 || p.x > w + 20 || p.y > h + 20) continue;
    const pulse = 9 + 3 * Math.sin(now / 180);
    ctx.strokeStyle = '#dc2626';
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    ctx.arc(p.x, p.y, pulse, 0, Math.PI * 2);
    ctx.stroke();
    ctx.font = 'bold 12px system-ui, sans-serif';
    const label = `! ${alert.rule} · ${alert.riderId}`;
    const width = ctx.measureText(label).width;
    ctx.fillStyle = 'rgba(220, 38, 38, .92)';
    ctx.fillRect(p.x + 12, p.y - 22, width + 10, 18);
    ctx.fillStyle = '#fff';
    ctx.fillText(label, p.x + 17, p.y - 9);
  }
  return done.size > 0;
}
