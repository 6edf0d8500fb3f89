/**
 * Baselines: the cheapest honest Express 5 JSON POST handler (parse the body, answer 202) for
 * bench/ingest, and a GET answering JSON from memory for bench/tracking. Prints its URL on stdout.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';

const app = express();
app.use(express.json({ limit: '512kb' }));
app.post('/v1/riders/me/locations', (req, res) => {
  res.status(202).json({ accepted: Array.isArray(req.body?.points) ? req.body.points.length : 0 });
});
// Baseline for bench/tracking: a GET answering, from memory, a document the size and shape of
// deligo's tracking view in that benchmark (a rider position and a 20-point route).
const view = {
  orderId: 'o-1',
  status: 'DELIVERING',
  version: 5,
  riderId: 'r-1',
  restaurant: { lat: 37.4979, lng: 127.0276 },
  dropoff: { lat: 37.5079, lng: 127.0276 },
  etaAt: new Date().toISOString(),
  rider: { lat: 37.5055, lng: 127.0276, heading: 0, speed: 6, recordedAt: new Date().toISOString() },
  route: Array.from({ length: 20 }, (_, k) => [37.4979 + k * 0.0004, 127.0276]),
  updatedAt: new Date().toISOString(),
};
app.get('/v1/orders/:id/tracking', (_req, res) => {
  res.json(view);
});
// Baseline for bench/group-orders: a GET answering a small list from memory.
// As many groups, with the same fields, as deligo answers at the 강남역 hot spot.
const groups = Array.from({ length: 50 }, (_, i) => ({
  id: `grp_${i}`,
  restaurant: { id: 'rest-1', name: '교촌치킨 강남점', category: 'chicken' },
  mode: 'EACH',
  menuTotal: 18_000,
  deliveryTip: 3_000,
  address: '서울 강남구 테헤란로 123',
  distanceMeters: 5 * i,
  expiresAt: new Date().toISOString(),
}));
app.get('/v1/group-orders', (_req, res) => {
  res.json({ radiusMeters: 300, groupOrders: groups });
});
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
