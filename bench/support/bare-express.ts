/**
 * Baseline for bench/ingest: the cheapest honest Express 5 JSON POST handler (parse the body,
 * answer 202). Prints its URL on stdout.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';

const app = express();
app.use(express.json({ limit: '512kb' }));
app.post('/v1/riders/me/locations', (req, res) => {
  res.status(202).json({ accepted: Array.isArray(req.body?.points) ? req.body.points.length : 0 });
});
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
