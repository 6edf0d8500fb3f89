// The customer's tracking page. Data: GET /v1/orders/:id/tracking for the first paint and for a
// clear error, then /tracking/stream (server-sent events) for every change. The rider marker
// glides from where it is drawn to each new fix, so it never jumps and is at most 0.9 s behind.
import { countdown, createGlide, fitView, haversineMeters, toScreen } from './geo.js';

const STEPS = ['PLACED', 'COOKING', 'READY_FOR_PICKUP', 'PICKED_UP', 'DELIVERING', 'DELIVERED'];
const LABELS = {
  PLACED: '주문접수',
  COOKING: '조리중',
  READY_FOR_PICKUP: '픽업대기',
  PICKED_UP: '픽업완료',
  DELIVERING: '배달중',
  DELIVERED: '배달완료',
  REJECTED: '주문거절',
  CANCELLED: '주문취소',
};
/** The "arriving" alert: the rider is this close to the drop-off while bringing the food. */
const ARRIVING_METERS = 100;
const ON_THE_WAY = new Set(['PICKED_UP', 'DELIVERING']);

const orderId = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const base = `/v1/orders/${encodeURIComponent(orderId)}`;
// The token in the link is now a cookie (set by the server); keep it out of history.
if (new URLSearchParams(location.search).has('token')) history.replaceState(null, '', location.pathname);

const el = (id) => document.getElementById(id);
const svg = el('track-map');
const state = {
  status: null,
  etaAt: null,
  restaurant: null,
  dropoff: null,
  route: [],
  times: {},
  glide: createGlide({ maxMs: 900 }),
  view: null,
  viewFrom: null,
  viewTo: null,
  viewStart: 0,
  viewKey: '',
  /** Date.now() when the last position arrived, for the tests and benchmarks. */
  lastPositionAt: 0,
  positions: 0,
};
window.deligoTrack = state;

function problem(message) {
  const p = el('problem');
  p.textContent = message;
  p.hidden = !message;
}

// --- data -------------------------------------------------------------------------------------

function applyView(v) {
  state.status = v.status;
  state.etaAt = v.etaAt;
  state.restaurant = v.restaurant;
  state.dropoff = v.dropoff;
  state.route = v.route ?? [];
  if (v.rider) position(v.rider, false);
  renderStatus();
}

function position(rider, live = true) {
  state.glide.target(rider, performance.now());
  state.heading = rider.heading ?? null;
  if (live) {
    state.route.push([rider.lat, rider.lng]);
    state.lastPositionAt = Date.now();
    state.positions += 1;
  }
  renderArriving();
}

function onUpdate(u) {
  if (u.type === 'position') position(u.rider);
  else if (u.type === 'status') {
    state.status = u.status;
    if (u.etaAt !== undefined) state.etaAt = u.etaAt;
    state.times[u.status] ??= new Date().toISOString();
    renderStatus();
  } else if (u.type === 'eta') {
    state.etaAt = u.etaAt;
    renderStatus();
  }
}

async function load() {
  const res = await fetch(`${base}/tracking`, { headers: { accept: 'application/json' } });
  if (res.status === 401) return problem('링크에 접근 정보가 없어요. 주문 알림의 링크로 다시 열어 주세요.');
  if (res.status === 403) return problem('이 주문의 배달 현황을 볼 수 없어요.');
  if (res.status === 404) return problem('진행 중인 배달을 찾을 수 없어요.');
  if (!res.ok) return problem('잠시 후 다시 시도해 주세요.');
  applyView(await res.json());
  stream();
  // Names and step times come from the order itself; the page works without them.
  fetch(base, { headers: { accept: 'application/json' } })
    .then((r) => (r.ok ? r.json() : null))
    .then((order) => {
      if (!order) return;
      el('restaurant-name').textContent = order.restaurant?.name ?? '';
      for (const h of order.history ?? []) state.times[h.to] = h.at;
      renderStatus();
    })
    .catch(() => {});
}

function stream() {
  const live = el('live');
  const source = new EventSource(`${base}/tracking/stream`);
  source.addEventListener('snapshot', (e) => applyView(JSON.parse(e.data)));
  source.addEventListener('update', (e) => onUpdate(JSON.parse(e.data)));
  source.onopen = () => {
    live.dataset.state = 'live';
    live.textContent = '실시간';
  };
  source.onerror = () => {
    live.dataset.state = 'down';
    live.textContent = '다시 연결 중';
  };
}

// --- text -------------------------------------------------------------------------------------

function renderStatus() {
  const status = state.status;
  el('status-label').textContent = LABELS[status] ?? status ?? '';
  const stopped = status === 'REJECTED' || status === 'CANCELLED';
  const reached = stopped ? -1 : STEPS.indexOf(status);
  const steps = stopped ? [...STEPS.slice(0, lastDone() + 1), status] : STEPS;
  el('timeline').replaceChildren(
    ...steps.map((step, i) => {
      const li = document.createElement('li');
      li.dataset.status = step;
      li.dataset.state = step === status ? (stopped ? 'stopped' : step === 'DELIVERED' ? 'done' : 'current') : stopped || i < reached ? 'done' : 'todo';
      li.textContent = LABELS[step];
      const at = state.times[step];
      if (at && li.dataset.state !== 'todo') {
        const time = document.createElement('time');
        time.dateTime = at;
        time.textContent = new Date(at).toLocaleTimeString('ko-KR', { hour: '2-digit', minute: '2-digit' });
        li.append(time);
      }
      return li;
    }),
  );
  renderEta();
  renderArriving();
}

function lastDone() {
  let last = 0;
  STEPS.forEach((s, i) => state.times[s] && (last = i));
  return last;
}

function renderEta() {
  const left = countdown(state.etaAt, Date.now());
  const open = state.status && !['DELIVERED', 'REJECTED', 'CANCELLED'].includes(state.status);
  el('eta').hidden = !(open && left);
  if (open && left) {
    el('eta-time').textContent = new Date(state.etaAt).toLocaleTimeString('ko-KR', { hour: '2-digit', minute: '2-digit' });
    el('countdown').textContent = left;
  }
}

function renderArriving() {
  const goal = state.glide.goal;
  const meters = goal && state.dropoff ? haversineMeters(goal, state.dropoff) : Infinity;
  const show = ON_THE_WAY.has(state.status) && meters <= ARRIVING_METERS;
  el('arriving').hidden = !show;
  if (show) el('arriving-distance').textContent = `· ${Math.max(1, Math.round(meters))}m`;
}

// --- drawing ----------------------------------------------------------------------------------

const NS = 'http://www.w3.org/2000/svg';
const place = (node, p) => node.setAttribute('transform', `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`);

/** How long the map takes to pan and zoom to a new fit, so nothing on it ever jumps. */
const REFIT_MS = 600;

/**
 * Keeps the restaurant, the drop-off and the rider's latest fix in view. When one leaves the
 * frame (or the size changes) the view glides to a new fit; `state.view` is where it is now.
 */
function updateView(w, h, goal, now) {
  const points = [state.restaurant, state.dropoff, goal].filter(Boolean);
  const key = `${w}x${h}`;
  const aim = state.viewTo;
  const outside = aim && points.some((p) => {
    const s = toScreen(aim, p.lat, p.lng, w, h);
    return s.x < 24 || s.y < 24 || s.x > w - 24 || s.y > h - 24;
  });
  if (!aim || outside || state.viewKey !== key) {
    const fit = fitView(points, w, h, 48, 17);
    // The first fit, or a new size, is taken at once; later refits glide.
    state.viewFrom = aim && state.viewKey === key ? state.view : fit;
    state.viewTo = fit;
    state.viewStart = now;
    state.viewKey = key;
  }
  const t = Math.min(1, (now - state.viewStart) / REFIT_MS);
  const e = t * t * (3 - 2 * t);
  const a = state.viewFrom;
  const b = state.viewTo;
  state.view = { x: a.x + (b.x - a.x) * e, y: a.y + (b.y - a.y) * e, zoom: a.zoom + (b.zoom - a.zoom) * e };
}

/** A light grid fixed to the ground (it pans and zooms with the map), about 45–90 px apart. */
function drawGrid(w, h) {
  const v = state.view;
  const k = 2 ** v.zoom;
  const step = 256 / 2 ** (Math.round(v.zoom) + 2);
  const lines = [];
  const left = v.x - w / 2 / k;
  const top = v.y - h / 2 / k;
  for (let gx = Math.ceil(left / step) * step; gx < left + w / k; gx += step) lines.push([(gx - left) * k, 0, (gx - left) * k, h]);
  for (let gy = Math.ceil(top / step) * step; gy < top + h / k; gy += step) lines.push([0, (gy - top) * k, w, (gy - top) * k]);
  const grid = el('grid');
  while (grid.childElementCount < lines.length) grid.append(document.createElementNS(NS, 'line'));
  while (grid.childElementCount > lines.length) grid.lastChild.remove();
  lines.forEach(([x1, y1, x2, y2], i) => {
    const l = grid.children[i];
    l.setAttribute('x1', x1.toFixed(1));
    l.setAttribute('y1', y1.toFixed(1));
    l.setAttribute('x2', x2.toFixed(1));
    l.setAttribute('y2', y2.toFixed(1));
  });
}

function frame() {
  const w = svg.clientWidth;
  const h = svg.clientHeight;
  const now = performance.now();
  const at = state.glide.at(now);
  if (state.restaurant && state.dropoff && w > 0 && h > 0) {
    updateView(w, h, state.glide.goal, now);
    drawGrid(w, h);
    const screen = (p) => toScreen(state.view, p.lat, p.lng, w, h);
    const r = screen(state.restaurant);
    const d = screen(state.dropoff);
    place(el('restaurant-pin'), r);
    place(el('home-pin'), d);
    el('restaurant-pin').hidden = false;
    el('home-pin').hidden = false;
    el('route').setAttribute('points', state.route.map(([lat, lng]) => screen({ lat, lng })).map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' '));
    const marker = el('rider-marker');
    if (at) {
      const m = screen(at);
      place(marker, m);
      marker.dataset.lat = at.lat.toFixed(7);
      marker.dataset.lng = at.lng.toFixed(7);
      marker.dataset.at = now.toFixed(1); // when this position was computed, for checks of the glide
      marker.hidden = false;
      const arrow = marker.querySelector('.heading');
      arrow.style.display = state.heading == null ? 'none' : '';
      arrow.setAttribute('transform', `rotate(${Math.round(state.heading ?? 0)})`);
      const leg = el('leg');
      const target = ON_THE_WAY.has(state.status) || state.status === 'DELIVERED' ? d : r;
      leg.setAttribute('x1', m.x.toFixed(1));
      leg.setAttribute('y1', m.y.toFixed(1));
      leg.setAttribute('x2', target.x.toFixed(1));
      leg.setAttribute('y2', target.y.toFixed(1));
    }
  }
  requestAnimationFrame(frame);
}

renderStatus();
setInterval(renderEta, 1_000);
requestAnimationFrame(frame);
load().catch(() => problem('잠시 후 다시 시도해 주세요.'));
