// Pure helpers shared by the ops map and the tracking page: projection, distances and the
// smoothing that moves markers between GPS fixes. No DOM here, so tests run it in Node.

const TILE = 256;
const EARTH_RADIUS_METERS = 6_371_008.8;
const rad = (d) => (d * Math.PI) / 180;

/** Web Mercator "world" pixels at zoom 0 (the world is 256 px wide), as map tiles use. */
export function project(lat, lng) {
  const s = Math.sin(rad(Math.max(-85.05, Math.min(85.05, lat))));
  return { x: ((lng + 180) / 360) * TILE, y: (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * TILE };
}

export function unproject(x, y) {
  const lng = (x / TILE) * 360 - 180;
  const n = Math.PI - (2 * Math.PI * y) / TILE;
  return { lat: (180 / Math.PI) * Math.atan(Math.sinh(n)), lng };
}

export function haversineMeters(a, b) {
  const dLat = rad(b.lat - a.lat);
  const dLng = rad(b.lng - a.lng);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_METERS * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The zoom and centre (world px at zoom 0) that fit `points` into width × height, less padding. */
export function fitView(points, width, height, padding = 40, maxZoom = 17) {
  if (points.length === 0) return { x: project(37.5326, 127.0246).x, y: project(37.5326, 127.0246).y, zoom: 11 };
  // A loop, not Math.min(...xs): a fleet of 50,000 riders is more arguments than a call may take.
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const point of points) {
    const p = project(point.lat, point.lng);
    minX = Math.min(minX, p.x);
    maxX = Math.max(maxX, p.x);
    minY = Math.min(minY, p.y);
    maxY = Math.max(maxY, p.y);
  }
  return fitBounds({ minX, maxX, minY, maxY }, width, height, padding, maxZoom);
}

/** fitView for points already projected: their bounds in world px. */
export function fitBounds({ minX, maxX, minY, maxY }, width, height, padding = 40, maxZoom = 17) {
  const spanX = Math.max(maxX - minX, 1e-7);
  const spanY = Math.max(maxY - minY, 1e-7);
  const zoom = Math.min(maxZoom, Math.log2(Math.min((width - 2 * padding) / spanX, (height - 2 * padding) / spanY)));
  return { x: (minX + maxX) / 2, y: (minY + maxY) / 2, zoom: Number.isFinite(zoom) ? zoom : maxZoom };
}

/** Screen position of (lat, lng) in a view centred at world (x, y) with `zoom`, on a width × height surface. */
export function toScreen(view, lat, lng, width, height) {
  const p = project(lat, lng);
  const k = 2 ** view.zoom;
  return { x: (p.x - view.x) * k + width / 2, y: (p.y - view.y) * k + height / 2 };
}

export const easeOutCubic = (t) => 1 - (1 - Math.min(1, Math.max(0, t))) ** 3;

/**
 * How long a marker takes to glide to a new fix: most of the time since the previous fix, so it
 * keeps moving between fixes, but never more than `maxMs`, so the marker is never further than
 * that behind the rider's reported position (the tracking page promises under 1 s).
 */
export function glideDuration(intervalMs, maxMs = 900, minMs = 250) {
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) return minMs;
  return Math.max(minMs, Math.min(maxMs, intervalMs * 0.8));
}

/**
 * A marker that never jumps: each new fix starts a glide from wherever the marker is drawn at that
 * moment (mid-glide included) to the fix.
 */
export function createGlide(options = {}) {
  const maxMs = options.maxMs ?? 900;
  let from = null;
  let to = null;
  let start = 0;
  let duration = 0;
  let lastFixAt = null;
  const at = (now) => {
    if (!to) return null;
    if (!from || duration <= 0) return { ...to };
    const t = easeOutCubic((now - start) / duration);
    return { lat: from.lat + (to.lat - from.lat) * t, lng: from.lng + (to.lng - from.lng) * t };
  };
  return {
    /** Aims the marker at a new fix received at `now` (ms). */
    target(fix, now) {
      const current = at(now);
      from = current ?? { lat: fix.lat, lng: fix.lng };
      to = { lat: fix.lat, lng: fix.lng };
      duration = current ? glideDuration(lastFixAt === null ? NaN : now - lastFixAt, maxMs) : 0;
      start = now;
      lastFixAt = now;
    },
    /** Where to draw the marker at `now`; null before the first fix. */
    at,
    /** The latest real fix. */
    get goal() {
      return to ? { ...to } : null;
    },
    moving(now) {
      return Boolean(to && from && now - start < duration);
    },
  };
}

/** "12:05" (minutes:seconds) until `etaAt`, or null when there is no ETA or it has passed. */
export function countdown(etaAt, now) {
  if (!etaAt) return null;
  const left = Date.parse(etaAt) - now;
  if (!Number.isFinite(left) || left <= 0) return null;
  const s = Math.ceil(left / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
