import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { PermanentDeliveryError, TransientDeliveryError, type SendRequest } from '../notifications/provider.ts';
import { createHttpProvider } from '../notifications/providers/http.ts';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Stand-in gateway: records each request and answers with whatever the test set in `reply`. */
describe('http notification provider', () => {
  let server: http.Server;
  let url: string;
  let received: Received[] = [];
  let reply: (res: http.ServerResponse) => void;

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        reply(res);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/send`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => {
    received = [];
    reply = (res) => json(res, 200, { id: 'msg-1' });
  });

  const request = (over: Partial<SendRequest> = {}): SendRequest => ({
    deliveryId: 'd0c0ffee',
    event: 'order.dispatched',
    recipient: { phone: '010-1234-5678' },
    message: { title: '배달 시작', body: '라이더가 출발했어요', data: { orderId: 'ord-42' } },
    ...over,
  });

  it('posts the default template with the normalised phone, escaping quotes, newlines and Korean', async () => {
    const provider = createHttpProvider({ channel: 'sms', url });
    const body = '주문 "A-1"\n곧 도착해요 \\ 감사합니다';
    const result = await provider.send(request({ message: { title: '알림', body, data: {} } }));
    assert.equal(result.providerMessageId, 'msg-1');
    assert.equal(received.length, 1);
    assert.deepEqual(JSON.parse(received[0]!.body), { to: '01012345678', title: '알림', text: body, reference: 'd0c0ffee' });
    assert.equal(received[0]!.headers['content-type'], 'application/json');
  });

  it('renders a custom template with event and data placeholders', async () => {
    const bodyTemplate = '{"receiver":"{{to}}","msg":"{{body}}","meta":{"order":"{{data.orderId}}","event":"{{event}}","none":"{{data.missing}}"}}';
    await createHttpProvider({ channel: 'sms', url, bodyTemplate }).send(request({ recipient: { phone: '+82 10 9876 5432' } }));
    assert.deepEqual(JSON.parse(received[0]!.body), {
      receiver: '01098765432',
      msg: '라이더가 출발했어요',
      meta: { order: 'ord-42', event: 'order.dispatched', none: '' },
    });
  });

  it('sends Authorization and Idempotency-Key headers', async () => {
    await createHttpProvider({ channel: 'kakao', url, authHeader: 'KakaoAK secret-key' }).send(request());
    assert.equal(received[0]!.headers.authorization, 'KakaoAK secret-key');
    assert.equal(received[0]!.headers['idempotency-key'], 'd0c0ffee');
  });

  it('reads message_id from a 2xx body and tolerates a body that is not JSON', async () => {
    const provider = createHttpProvider({ channel: 'sms', url });
    reply = (res) => json(res, 202, { message_id: 77 });
    assert.equal((await provider.send(request())).providerMessageId, '77');
    reply = (res) => res.writeHead(200).end('OK');
    assert.equal((await provider.send(request())).providerMessageId, undefined);
  });

  const outcomes: Array<[number, typeof TransientDeliveryError | typeof PermanentDeliveryError]> = [
    [500, TransientDeliveryError],
    [503, TransientDeliveryError],
    [429, TransientDeliveryError],
    [408, TransientDeliveryError],
    [400, PermanentDeliveryError],
    [404, PermanentDeliveryError],
  ];
  for (const [status, ErrorClass] of outcomes) {
    it(`maps ${status} to ${ErrorClass.name} with the status and a body excerpt`, async () => {
      reply = (res) => json(res, status, { error: `gateway says ${status}` });
      await assert.rejects(createHttpProvider({ channel: 'sms', url }).send(request()), (err: unknown) => {
        assert.ok(err instanceof ErrorClass, `got ${String(err)}`);
        assert.match(err.message, new RegExp(`${status}.*gateway says ${status}`));
        return true;
      });
    });
  }

  it('gives up on a hanging gateway after timeoutMs with a TransientDeliveryError', async () => {
    reply = () => {}; // never answers
    const started = Date.now();
    await assert.rejects(createHttpProvider({ channel: 'sms', url, timeoutMs: 200 }).send(request()), (err: unknown) => {
      assert.ok(err instanceof TransientDeliveryError, `got ${String(err)}`);
      assert.match(err.message, /timed out after 200ms/);
      return true;
    });
    assert.ok(Date.now() - started < 2000, 'did not wait for the default timeout');
  });

  it('treats a refused connection as transient', async () => {
    const closed = http.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/send`;
    closed.close();
    await once(closed, 'close');
    await assert.rejects(createHttpProvider({ channel: 'sms', url: deadUrl }).send(request()), TransientDeliveryError);
  });

  for (const phone of ['02-123-4567', '010-1234-567', '+1 415 555 0100', 'call me']) {
    it(`rejects phone ${JSON.stringify(phone)} as permanent without a request`, async () => {
      await assert.rejects(createHttpProvider({ channel: 'sms', url }).send(request({ recipient: { phone } })), (err: unknown) => {
        assert.ok(err instanceof PermanentDeliveryError);
        assert.match(err.message, /invalid phone .*Korean mobile number/);
        return true;
      });
      assert.equal(received.length, 0);
    });
  }

  it('rejects an sms without a phone as permanent', async () => {
    await assert.rejects(createHttpProvider({ channel: 'sms', url }).send(request({ recipient: { email: 'a@b.kr' } })), /sms needs recipient.phone/);
    assert.equal(received.length, 0);
  });

  it('sends kakao to kakaoId, falling back to the phone', async () => {
    const provider = createHttpProvider({ channel: 'kakao', url });
    await provider.send(request({ recipient: { kakaoId: 'kakao-user-9', phone: '010-1111-2222' } }));
    await provider.send(request({ recipient: { phone: '010 3333 4444' } }));
    assert.deepEqual(received.map((r) => JSON.parse(r.body).to), ['kakao-user-9', '01033334444']);
  });

  it('refuses a template that does not render to JSON, or uses unknown placeholders, at creation', () => {
    assert.throws(() => createHttpProvider({ channel: 'sms', url, bodyTemplate: '{"to":{{to}}}' }), /bodyTemplate does not render to valid JSON/);
    assert.throws(() => createHttpProvider({ channel: 'sms', url, bodyTemplate: '{"to":"{{phone}}"}' }), /unknown placeholder \{\{phone\}\}/);
    assert.throws(() => createHttpProvider({ channel: 'sms', url: 'ftp://gateway' }), /url must be an http\(s\) URL/);
  });
});

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
