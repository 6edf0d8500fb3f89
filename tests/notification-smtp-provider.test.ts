import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { PermanentDeliveryError, TransientDeliveryError, type NotificationProvider, type SendRequest } from '../notifications/provider.ts';
import { createSmtpProvider } from '../notifications/providers/smtp.ts';

/** A real SMTP server: keeps each raw message, refuses bounce@ for good and later@ for now. */
describe('smtp notification provider', () => {
  let server: SMTPServer;
  let provider: NotificationProvider;
  let port: number;
  let messages: string[] = [];

  before(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, callback) {
        const local = address.address.split('@')[0];
        if (local === 'bounce') return callback(smtpError(550, 'mailbox unavailable'));
        if (local === 'later') return callback(smtpError(450, 'greylisted, try again later'));
        callback();
      },
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          messages.push(Buffer.concat(chunks).toString('utf8'));
          callback();
        });
      },
    });
    server.listen(0, '127.0.0.1');
    await once(server.server, 'listening');
    port = (server.server.address() as AddressInfo).port;
    provider = createSmtpProvider({ url: `smtp://127.0.0.1:${port}`, from: 'Deligo <no-reply@deligo.test>' });
  });
  after(async () => {
    await provider.close?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    messages = [];
  });

  const request = (email: string, body = 'Your order left the kitchen.\nThe rider is <on the way> & fast.'): SendRequest => ({
    deliveryId: '5f1e0c9ab27d4e3f8a6b1c2d3e4f5a6b',
    event: 'order.dispatched',
    recipient: { email, name: 'Kim' },
    message: { title: 'Order 42 is on its way', body, data: {} },
  });

  it('delivers subject, text, escaped html and the delivery id headers', async () => {
    const result = await provider.send(request('eater@example.com'));
    assert.equal(result.providerMessageId, '<5f1e0c9ab27d4e3f8a6b1c2d3e4f5a6b@deligo>');
    assert.equal(messages.length, 1);
    const raw = messages[0]!;
    assert.match(raw, /^Subject: Order 42 is on its way\r$/m);
    assert.match(raw, /^To: Kim <eater@example\.com>\r$/m);
    assert.match(raw, /^X-Deligo-Delivery: 5f1e0c9ab27d4e3f8a6b1c2d3e4f5a6b\r$/m);
    assert.match(raw, /^Message-ID: <5f1e0c9ab27d4e3f8a6b1c2d3e4f5a6b@deligo>\r$/m);
    assert.match(raw, /Content-Type: text\/plain[^]*Your order left the kitchen\.\r\nThe rider is <on the way> & fast\./);
    const unfolded = raw.replace(/=\r\n/g, ''); // quoted-printable soft line breaks
    assert.match(unfolded, /Content-Type: text\/html[^]*<p>Your order left the kitchen\.<br>The rider is &#60;on the way&#62; &#38; fast\.<\/p>/);
  });

  it('sends Korean text intact', async () => {
    await provider.send({ ...request('eater@example.com', '라이더가 출발했어요'), message: { title: '배달 시작', body: '라이더가 출발했어요', data: {} } });
    assert.match(messages[0]!, /^Subject: =\?UTF-8\?B\?/m);
    const text = messages[0]!.match(/Content-Type: text\/plain[^]*?\r\n\r\n([^]*?)\r\n--/)?.[1] ?? '';
    const encoding = messages[0]!.match(/Content-Type: text\/plain[^]*?Content-Transfer-Encoding: (\S+)/)?.[1];
    assert.equal(encoding, 'base64');
    assert.equal(Buffer.from(text, 'base64').toString('utf8'), '라이더가 출발했어요');
  });

  it('maps a 550 recipient rejection to PermanentDeliveryError', async () => {
    await assert.rejects(provider.send(request('bounce@example.com')), (err: unknown) => {
      assert.ok(err instanceof PermanentDeliveryError, `got ${String(err)}`);
      assert.match(err.message, /550 mailbox unavailable/);
      return true;
    });
    assert.equal(messages.length, 0);
  });

  it('maps a 450 greylisting to TransientDeliveryError', async () => {
    await assert.rejects(provider.send(request('later@example.com')), (err: unknown) => {
      assert.ok(err instanceof TransientDeliveryError, `got ${String(err)}`);
      assert.match(err.message, /450 greylisted/);
      return true;
    });
  });

  it('maps a refused connection to TransientDeliveryError', async () => {
    const dead = createSmtpProvider({ url: `smtp://127.0.0.1:${await closedPort()}`, from: 'no-reply@deligo.test' });
    try {
      await assert.rejects(dead.send(request('eater@example.com')), TransientDeliveryError);
    } finally {
      await dead.close?.();
    }
  });

  for (const email of ['not-an-email', 'two@@example.com', 'eater@example.com\r\nBcc: x@y.z', '']) {
    it(`rejects email ${JSON.stringify(email)} as permanent without sending`, async () => {
      await assert.rejects(provider.send(request(email)), PermanentDeliveryError);
      assert.equal(messages.length, 0);
    });
  }

  it('refuses to start without a from address or an smtp url', () => {
    assert.throws(() => createSmtpProvider({ url: 'smtp://localhost', from: '' }), /requires a from address/);
    assert.throws(() => createSmtpProvider({ url: 'http://localhost', from: 'a@b.kr' }), /requires a url such as smtp:/);
  });
});

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

async function closedPort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
