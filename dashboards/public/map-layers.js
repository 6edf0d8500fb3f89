// The ops map's layers, drawn on a 2D canvas context in this order: tiles (when configured), the
// cell grid, hot-spot cells, open orders, riders. Each reads the map state and draws; no I/O.
import { toScreen, unproject } from './geo.js';

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

export function drawRiders(ctx, state, w, h, now) {
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
