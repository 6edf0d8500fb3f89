import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for an OSRM server: answers `GET /route/v1/driving/{lng},{lat};{lng},{lat}` in
 * OSRM's response format with a fixed duration per leg and a three-point line through a midpoint
 * shifted east (so a road route is told apart from a straight line). `mode` switches it to
 * answering errors or never answering at all.
 */
export async function startOsrmStandIn(options: { durationSeconds: number; distanceMeters: number }) {
  const state = { mode: 'ok' as 'ok' | 'error' | 'no-route' | 'hang', requests: [] as string[] };
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    state.requests.push(req.url ?? '');
    const match = (req.url ?? '').match(/^\/route\/v1\/driving\/([-\d.]+),([-\d.]+);([-\d.]+),([-\d.]+)\?/);
    if (state.mode === 'hang') return void hanging.add(res);
    if (state.mode === 'error' || !match) {
      res.writeHead(500, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ code: 'InternalError', message: 'stand-in error' }));
    }
    if (state.mode === 'no-route') {
      res.writeHead(400, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ code: 'NoRoute', message: 'Impossible route between points' }));
    }
    const [lng1, lat1, lng2, lat2] = match.slice(1).map(Number) as [number, number, number, number];
    const middle = [(lng1 + lng2) / 2 + 0.001, (lat1 + lat2) / 2];
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        code: 'Ok',
        routes: [{ distance: options.distanceMeters, duration: options.durationSeconds, weight: options.durationSeconds, weight_name: 'routability', geometry: { type: 'LineString', coordinates: [[lng1, lat1], middle, [lng2, lat2]] }, legs: [] }],
        waypoints: [
          { name: '테헤란로', location: [lng1, lat1], distance: 1.2, hint: 'x' },
          { name: '강남대로', location: [lng2, lat2], distance: 0.8, hint: 'y' },
        ],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
