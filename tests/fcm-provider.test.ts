import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Credential } from 'firebase-admin/app';
import { pino } from 'pino';
import { PermanentDeliveryError, TransientDeliveryError, type NotificationProvider, type SendRequest } from '../notifications/provider.ts';
import { createFcmProvider, type DeviceDirectory } from '../notifications/providers/fcm.ts';

const PROJECT = 'deligo-test';

/** FCM v1 error bodies, as the real endpoint sends them. */
function fcmError(code: number, status: string, message: string, errorCode: string) {
  return { code, body: { error: { code, message, status, details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] } } };
}
const answers: Record<string, { code: number; body: unknown }> = {
  gone: fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED'),
  invalid: fcmError(400, 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token', 'INVALID_ARGUMENT'),
  flaky: fcmError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE'),
};

interface Sent { token: string; message: Record<string, any> }

/** A stand-in for `POST /v1/projects/<project>/messages:send` that answers by token prefix. */
function startFcmStandIn(): Promise<{ server: http.Server; port: number; sent: Sent[] }> {
  const sent: Sent[] = [];
  let next = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const reply = (code: number, body: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || req.url !== `/v1/projects/${PROJECT}/messages:send`) return reply(404, { error: { code: 404, message: 'no route' } });
      if (req.headers.authorization !== 'Bearer test-token') return reply(401, { error: { code: 401, status: 'UNAUTHENTICATED', message: 'bad token' } });
      const { message } = JSON.parse(raw) as { message: Record<string, any> };
      const token = String(message.token);
      sent.push({ token, message });
      const answer = answers[token.split('-')[0]!];
      if (answer) return reply(answer.code, answer.body);
      reply(200, { name: `projects/${PROJECT}/messages/${++next}` });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port, sent })));
}

/** https.request writes its request over whatever socket the agent gives it: plain TCP to the stand-in. */
class StandInAgent extends https.Agent {
  constructor(private readonly port: number) {
    super();
  }
  override createConnection(): net.Socket {
    return net.connect(this.port, '127.0.0.1');
  }
}

class MemoryDevices implements DeviceDirectory {
  readonly byUser = new Map<string, string[]>();
  async tokensFor(userId: string): Promise<string[]> {
    return this.byUser.get(userId) ?? [];
  }
  async remove(tokens: string[]): Promise<void> {
    for (const [user, list] of this.byUser) this.byUser.set(user, list.filter((t) => !tokens.includes(t)));
  }
}

const fakeCredential: Credential = { getAccessToken: async () => ({ access_token: 'test-token', expires_in: 3600 }) };

describe('fcm provider', () => {
  let standIn: Awaited<ReturnType<typeof startFcmStandIn>>;
  let agent: StandInAgent;
  let provider: NotificationProvider;
  const devices = new MemoryDevices();

  before(async () => {
    standIn = await startFcmStandIn();
    agent = new StandInAgent(standIn.port);
    provider = createFcmProvider({
      credentials: { credential: fakeCredential },
      projectId: PROJECT,
      devices,
      logger: pino({ level: 'silent' }),
      httpAgent: agent,
    });
  });

  after(async () => {
    await provider.close?.();
    agent.destroy();
    standIn.server.closeAllConnections();
    await new Promise((resolve) => standIn.server.close(resolve));
  });

  /** A fresh user owning `tokens`, each made unique so tests never share one. */
  function userWith(...kinds: string[]): { userId: string; tokens: string[] } {
    const userId = `user-${randomUUID()}`;
    const tokens = kinds.map((kind) => `${kind}-${randomUUID()}`);
    devices.byUser.set(userId, tokens);
    return { userId, tokens };
  }

  function request(userId: string | undefined): SendRequest {
    return {
      deliveryId: `delivery-${randomUUID()}`,
      event: 'order.picked_up',
      recipient: { userId, name: '김민수' },
      message: { title: '배달 출발', body: '라이더가 음식을 픽업했어요', data: { orderId: 'o-42', kind: 'picked_up' } },
    };
  }

  const sentTo = (tokens: string[]) => standIn.sent.filter((s) => tokens.includes(s.token));

  it('delivers to good devices and drops an unregistered one', async () => {
    const { userId, tokens } = userWith('good', 'good', 'gone');
    const result = await provider.send(request(userId));

    assert.match(result.providerMessageId ?? '', new RegExp(`^projects/${PROJECT}/messages/\\d+$`));
    assert.deepEqual(result.detail, { devices: 3, delivered: 2, removed: 1 });
    assert.deepEqual(await devices.tokensFor(userId), tokens.slice(0, 2));

    const bodies = sentTo(tokens);
    assert.equal(bodies.length, 3);
    for (const { message } of bodies) {
      assert.deepEqual(message.notification, { title: '배달 출발', body: '라이더가 음식을 픽업했어요' });
      assert.deepEqual(message.data, { orderId: 'o-42', kind: 'picked_up' });
      assert.equal(message.android.priority, 'high');
      assert.equal(message.apns.headers['apns-priority'], '10');
    }
  });

  it('fails permanently and removes every token when all are unregistered or invalid', async () => {
    const { userId } = userWith('gone', 'invalid');
    await assert.rejects(provider.send(request(userId)), (err: unknown) => {
      assert.ok(err instanceof PermanentDeliveryError, String(err));
      assert.match(err.message, /2 token\(s\) unregistered or invalid/);
      return true;
    });
    assert.deepEqual(await devices.tokensFor(userId), []);
  });

  it('fails transiently when FCM is unavailable, keeping the token', async () => {
    const { userId, tokens } = userWith('flaky');
    await assert.rejects(provider.send(request(userId)), (err: unknown) => {
      assert.ok(err instanceof TransientDeliveryError, String(err));
      assert.match(err.message, /messaging\/server-unavailable/);
      return true;
    });
    assert.deepEqual(await devices.tokensFor(userId), tokens);
    // firebase-admin already retries a 503 itself: 1 try + 4 retries (0 s, 1 s, 2 s, 4 s backoff).
    assert.equal(sentTo(tokens).length, 5);
  });

  it('fails permanently when the user has no device', async () => {
    const { userId } = userWith();
    await assert.rejects(provider.send(request(userId)), (err: unknown) => err instanceof PermanentDeliveryError && /no registered device/.test(err.message));
  });

  it('fails permanently without a userId', async () => {
    await assert.rejects(provider.send(request(undefined)), (err: unknown) => err instanceof PermanentDeliveryError && /push needs recipient\.userId/.test(err.message));
  });
});
