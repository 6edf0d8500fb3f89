import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { z } from 'zod';
import { notFoundHandler, problemHandler } from '../api/middleware/problem.ts';
import { defineRoute, mountRoutes } from '../api/route.ts';

describe('validation at the edge', () => {
  let url: string;
  let close: () => void;
  before(async () => {
    const app = express();
    app.use(express.json());
    const router = express.Router();
    const routes = [
      defineRoute({
        method: 'post',
        path: '/echo/:id',
        params: z.object({ id: z.coerce.number().int().positive() }),
        query: z.object({ radius: z.coerce.number().max(5_000).default(1_000) }),
        body: z.object({ points: z.array(z.object({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) })).min(1) }),
        handler: ({ params, query, body }) => ({ status: 201, body: { params, query, body } }),
      }),
    ];
    mountRoutes(router, routes, (_req, _res, next) => next());
    app.use(router, notFoundHandler, problemHandler);
    const server = app.listen(0);
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  after(() => close());

  const post = (path: string, body: unknown) =>
    fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('hands the handler parsed, typed values', async () => {
    const res = await post('/echo/7?radius=250', { points: [{ lat: 37.4979, lng: 127.0276 }] });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), { params: { id: 7 }, query: { radius: 250 }, body: { points: [{ lat: 37.4979, lng: 127.0276 }] } });
  });

  it('names every wrong field, with the index, in one 400', async () => {
    const res = await post('/echo/x?radius=99999', { points: [{ lat: 37.5, lng: 127 }, { lat: 91, lng: 'east' }] });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.deepEqual(
      body.errors.map((e: { path: string }) => e.path),
      ['params.id', 'query.radius', 'points.1.lat', 'points.1.lng'],
    );
    assert.match(body.detail, /^params\.id: .* \(and 3 more\)$/);
    assert.ok(body.errors.every((e: { message: string }) => e.message.length > 0));
  });
});
