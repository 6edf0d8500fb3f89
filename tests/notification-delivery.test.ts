import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import { spawnSync } from 'node:child_process';
import { notify } from '../notifications/notify.ts';
import { createDevProvider } from '../notifications/providers/dev.ts';
import { createHttpProvider } from '../notifications/providers/http.ts';
import type { Providers } from '../notifications/providers/index.ts';
import { runPools } from '../workers/run-pools.ts';
import { ROOT } from './support/processes.ts';
import { startProviderStandIn } from './support/provider-stand-in.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';

const BACKOFF = 300;

describe('notification delivery semantics', () => {
  let platform: TestPlatform;
  let gateway: Awaited<ReturnType<typeof startProviderStandIn>>;
  // What the gateway does next, per test: a function of how often it has seen this delivery.
  let behaviour: (seenBefore: number) => number | 'hang' = () => 200;

  before(async () => {
    platform = await createTestPlatform({ NOTIFY_BACKOFF_MS: String(BACKOFF) });
    gateway = await startProviderStandIn((_req, seen) => behaviour(seen));
    const providers: Providers = {
      push: createDevProvider('push'),
      email: createDevProvider('email'),
      kakao: createDevProvider('kakao'),
      sms: createHttpProvider({ channel: 'sms', url: gateway.url, timeoutMs: 2_000 }),
    };
    await runPools(platform, platform.releasers, ['notifications'], { providers });
  });
  after(async () => {
    await platform.cleanup();
    await gateway.close();
  });

  let seq = 0;
  const sms = (key = `order:${++seq}:COOKING`) =>
    notify(platform, {
      event: 'order.cooking',
      recipient: { userId: 'c-1', phone: '010-1234-5678' },
      channels: ['sms'],
      data: { orderId: String(seq), restaurantName: '강남 떡볶이', cookMinutes: 15 },
      idempotencyKey: key,
    });
  const row = (id: string) => platform.db('notification_deliveries').where({ id }).first();
  const settled = (id: string) => eventually(async () => {
    const r = await row(id);
    return r && ['sent', 'failed'].includes(r.status) ? r : undefined;
  }, 20_000, `delivery ${id} to settle`);
  const requestsFor = (id: string) => gateway.requests.filter((r) => r.idempotencyKey === id);

  it('a provider that fails with 500 twice then 200 delivers on attempt 3, with backoff between attempts', async () => {
    behaviour = (seen) => (seen < 2 ? 500 : 200);
    const { deliveries } = await sms();
    const id = deliveries[0]!.id;
    const done = await settled(id);
    assert.equal(done.status, 'sent');
    assert.equal(done.attempts, 3);
    const times = requestsFor(id).map((r) => r.at);
    assert.equal(times.length, 3);
    // Exponential with 50% jitter: gap n lies in [0.5, 1] × BACKOFF × 2^(n-1), plus scheduling slack.
    const gaps = [times[1]! - times[0]!, times[2]! - times[1]!];
    assert.ok(gaps[0]! >= BACKOFF * 0.5 && gaps[0]! <= BACKOFF + 400, `first gap ${gaps[0]} ms`);
    assert.ok(gaps[1]! >= BACKOFF && gaps[1]! <= 2 * BACKOFF + 400, `second gap ${gaps[1]} ms`);
  });

  it('a 4xx from the provider means exactly one attempt and a dead letter saying why', async () => {
    behaviour = () => 400;
    const { deliveries } = await sms();
    const id = deliveries[0]!.id;
    const done = await settled(id);
    assert.equal(done.status, 'failed');
    assert.equal(done.attempts, 1);
    assert.match(done.last_error, /400/);
    const job = await platform.queues.get('notifySms').getJob(id);
    assert.equal(await job!.getState(), 'failed');
    assert.equal(requestsFor(id).length, 1);
  });

  it('the same idempotency key enqueues once', async () => {
    behaviour = () => 200;
    const first = await sms('order:dup:COOKING');
    const second = await sms('order:dup:COOKING');
    assert.equal(first.deliveries[0]!.enqueued, true);
    assert.equal(second.deliveries[0]!.enqueued, false);
    assert.equal(first.deliveries[0]!.id, second.deliveries[0]!.id);
    await settled(first.deliveries[0]!.id);
    assert.equal(requestsFor(first.deliveries[0]!.id).length, 1);
  });

  it('one job per channel, and the delivery record keeps what the development provider sent', async () => {
    const { deliveries } = await notify(platform, {
      event: 'rider.arriving',
      recipient: { userId: 'c-9', email: 'C9@example.com', kakaoId: 'k-9' },
      channels: ['push', 'email', 'kakao'],
      data: { orderId: 'o-9', distanceMeters: 87 },
      idempotencyKey: 'order:o-9:arriving',
    });
    assert.deepEqual(deliveries.map((d) => d.channel), ['push', 'email', 'kakao']);
    for (const d of deliveries) assert.equal((await settled(d.id)).status, 'sent');
    const sent = await platform.db('notification_deliveries').whereIn('id', deliveries.map((d) => d.id)).orderBy('channel');
    assert.deepEqual(sent.map((s) => s.detail.address), ['email:c9@example.com', 'kakao:k-9', 'user:c-9']);
    assert.ok(sent.every((s) => s.provider === 'dev' && s.provider_message_id === `dev-${s.id}`));
    assert.equal(sent[0].detail.title, '곧 도착해요');
    assert.match(sent[0].detail.body, /87m 앞에/);
  });

  it('`deligo jobs replay --queue notifications` after the provider recovers delivers the failed ones and nothing else', async () => {
    behaviour = () => 503;
    const failing = [await sms(), await sms()].map((r) => r.deliveries[0]!.id);
    for (const id of failing) assert.equal((await settled(id)).status, 'failed');
    assert.equal(requestsFor(failing[0]!).length, 3, 'three attempts, then a dead letter');
    behaviour = () => 200;
    const delivered = (await sms()).deliveries[0]!.id;
    await settled(delivered);
    // A failed job whose delivery went out some other way must not be sent again by a replay.
    const ackLost = (await sms()).deliveries[0]!.id;
    behaviour = () => 503;
    await settled(ackLost);
    await platform.db('notification_deliveries').where({ id: ackLost }).update({ status: 'sent', sent_at: platform.db.fn.now() });
    behaviour = () => 200;

    const queue = platform.queues.get('notifySms');
    const dead = (await queue.getFailed(0, -1)).map((j: Job) => j.id!);
    assert.ok([...failing, ackLost].every((id) => dead.includes(id)));
    const expected = dead.filter((id) => id !== ackLost).sort();
    const before = gateway.requests.length;
    const replay = spawnSync(process.execPath, ['bin/deligo.js', 'jobs', 'replay', '--queue', 'notifications'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, REDIS_URL: platform.urls.redisUrl, DATABASE_URL: platform.urls.databaseUrl, QUEUE_PREFIX: platform.prefix },
    });
    assert.equal(replay.status, 0, replay.stderr);
    assert.match(replay.stdout, new RegExp(`retried ${dead.length}, skipped 0, errors 0`));
    for (const id of failing) assert.equal((await eventually(async () => ((await row(id)).status === 'sent' ? row(id) : undefined), 10_000)).status, 'sent');
    // The replayed job of a delivery already sent finishes without a request to the gateway.
    await eventually(async () => !(await queue.getJob(ackLost)), 10_000, 'the replayed job to finish');
    await eventually(async () => gateway.requests.length - before >= expected.length, 10_000);
    const replayed = gateway.requests.slice(before).map((r) => r.idempotencyKey).sort();
    assert.deepEqual(replayed, expected, 'only the undelivered dead letters were sent again');
    assert.equal(requestsFor(delivered).length, 1);
  });
});
