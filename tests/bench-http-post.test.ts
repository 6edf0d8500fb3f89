import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createPoster, parseResponse } from '../bench/support/http-post.ts';

/** bench/support/http-post.ts: the hand-written client bench/dispatch drives the API with. */
describe('bench: the lean HTTP POST client', () => {
  let server: http.Server;
  let base: string;
  const sockets = new Set<unknown>();

  before(async () => {
    server = http.createServer((req, res) => {
      sockets.add(req.socket);
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url === '/chunked') {
          res.write('{"parts":');
          res.end('[1,2]}');
        } else if (req.url === '/empty') {
          res.writeHead(204).end();
        } else if (req.url === '/close') {
          res.setHeader('connection', 'close');
          res.end('bye');
        } else {
          res.writeHead(req.url === '/conflict' ? 409 : 200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ path: req.url, body, auth: req.headers.authorization ?? null, 한글: '주문' }));
        }
      });
    });
    server.keepAliveTimeout = 300;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('posts a body with headers and reads status and body, reusing one socket', async () => {
    const post = createPoster(base, { sockets: 1 });
    for (let i = 0; i < 20; i++) {
      const res = await post(`/v1/x/${i}`, { authorization: 'Bearer t' }, JSON.stringify({ i, to: '배달' }));
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.text), { path: `/v1/x/${i}`, body: JSON.stringify({ i, to: '배달' }), auth: 'Bearer t', 한글: '주문' });
    }
    assert.equal((await post('/conflict', {})).status, 409);
  });

  it('chunked, empty and closing responses; more requests than sockets wait their turn', async () => {
    const post = createPoster(base, { sockets: 3 });
    assert.deepEqual(await post('/chunked', {}), { status: 200, text: '{"parts":[1,2]}' });
    assert.deepEqual(await post('/empty', {}), { status: 204, text: '' });
    assert.deepEqual(await post('/close', {}), { status: 200, text: 'bye' });
    const many = await Promise.all(Array.from({ length: 40 }, (_, i) => post(`/n/${i}`, {}, 'x')));
    assert.deepEqual(many.map((r) => JSON.parse(r.text).path), Array.from({ length: 40 }, (_, i) => `/n/${i}`));
  });

  it('a socket the server closed while idle is replaced', async () => {
    const post = createPoster(base, { sockets: 2 });
    assert.equal((await post('/a', {})).status, 200);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await post('/b', {})).status, 200);
  });

  it('parses a response only once all of it is there', () => {
    const whole = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloHTTP/1.1');
    assert.equal(parseResponse(whole.subarray(0, 20)), undefined);
    assert.equal(parseResponse(whole.subarray(0, 42)), undefined);
    assert.deepEqual(parseResponse(whole), { status: 200, text: 'hello', consumed: 43, close: false });
    assert.throws(() => parseResponse(Buffer.from('SSH-2.0\r\n\r\n')), /not an HTTP response/);
  });
});
