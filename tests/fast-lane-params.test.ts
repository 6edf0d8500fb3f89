import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { createFastLane } from '../api/fast-lane.ts';
import { defineRoute } from '../api/route.ts';
import { createLogger } from '../runtime/logger.ts';

/**
 * Hot POSTs with path parameters (a restaurant's acceptance, a rider's answer to an offer) taken
 * ahead of Express: the lane answers only what it is sure of, with the parameters the route's own
 * schema returns, and hands everything else to the app.
 */
describe('the fast lane for POSTs with path parameters', () => {
  const seen: Array<{ params: unknown; body: unknown }> = [];
  const routes = [
    defineRoute({
      method: 'post',
      path: '/v1/things/:id/poke',
      hot: true,
      roles: ['rider'],
      params: z.object({ id: z.string().min(1).max(8) }),
      handler: ({ params, body, user }) => (seen.push({ params, body }), { body: { poked: params.id, by: user.sub } }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/things/:id/move',
      hot: true,
      roles: ['rider'],
      params: z.object({ id: z.string().min(1).max(8) }),
      body: z.object({ to: z.string() }),
      quickBody: (raw) => (typeof raw === 'object' && raw !== null && typeof (raw as { to?: unknown }).to === 'string' ? { to: (raw as { to: string }).to } : undefined),
      handler: ({ params, body }) => ({ body: { moved: params.id, to: body.to } }),
    }),
  ];
  const lane = createFastLane(routes, {
    identify: (headers) => (headers.authorization === 'Bearer rider' ? { sub: 'r-1', role: 'rider' } : undefined),
    maxBodyBytes: 1024,
    logger: createLogger({ level: 'silent', name: 'test' }),
  });
  // The app stands in for Express: it only says that it was asked.
  const app = (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.resume();
    res.writeHead(599).end('app');
  };
  const server = http.createServer((req, res) => void (lane(req, res, app) || app(req, res)));
  let port = 0;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (path: string, body?: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { authorization: 'Bearer rider', ...(body !== undefined && { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }), ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('answers a known caller’s bodiless POST itself, with the parameters as the schema returns them', async () => {
    const res = await post('/v1/things/abc/poke');
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), { poked: 'abc', by: 'r-1' });
    assert.deepEqual(seen.at(-1), { params: { id: 'abc' }, body: undefined });
    // A route that takes no body ignores a JSON one, as Express would hand it on.
    assert.equal((await post('/v1/things/abd/poke', '{}')).status, 200);
    assert.deepEqual(seen.at(-1), { params: { id: 'abd' }, body: {} });
  });

  it('takes a well-formed body through the route’s quick check', async () => {
    const res = await post('/v1/things/x1/move', JSON.stringify({ to: 'there' }));
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), { moved: 'x1', to: 'there' });
  });

  it('hands the app whatever it is unsure of', async () => {
    const toApp = async (path: string, body?: string, headers?: Record<string, string>) => assert.equal((await post(path, body, headers)).status, 599, path);
    await toApp('/v1/things/%61bc/poke'); // a parameter to decode
    await toApp('/v1/things/much-too-long/poke'); // refused by the parameter schema
    await toApp('/v1/things//poke');
    await toApp('/v1/things/abc/poke?x=1');
    await toApp('/v1/things/abc/poke/more');
    await toApp('/v1/things/abc/poke', undefined, { authorization: 'Bearer stranger' });
    await toApp('/v1/things/x1/move', JSON.stringify({ to: 3 })); // the quick check is unsure: zod decides
    await toApp('/v1/things/x1/move'); // no body where one is needed
    await toApp('/v1/things/abc/poke', '{"oops"'); // not JSON: the app answers the parse error
  });
});
