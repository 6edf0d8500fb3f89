import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'bullmq';
import { drainOutbox, type OutboxDelivery } from '../db/orders-repository.ts';
import { relayKicker } from '../orders/relay-kicker.ts';
import { QUEUES } from '../runtime/queue-registry.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';

const delivery = (id: string): OutboxDelivery => ({
  id,
  idempotency_key: `order:${id}:v1`,
  event: 'order.placed',
  channel: 'push',
  recipient_key: `user:${id}`,
  recipient: { userId: id },
  data: { orderId: id, restaurantName: '테스트' },
});

describe('orders outbox relay', () => {
  let p: TestPlatform;
  before(async () => {
    p = await createTestPlatform();
  });
  after(() => p.cleanup());

  const outboxCount = async () => Number((await p.db('outbox').count('* as n'))[0]!.n);
  const deliveries = async () => (await p.db('notification_deliveries').orderBy('id').select('id', 'status')).map((r) => `${r.id}:${r.status}`);

  it('a failed delivery records nothing and releases its claim; a good one deletes the rows and records the deliveries in the same statement', async () => {
    await p.db('outbox').insert([1, 2, 3].map((n) => ({ topic: 'test', payload: JSON.stringify({ n }) })));
    await assert.rejects(
      drainOutbox(p.db, 10, async () => {
        throw new Error('redis away');
      }),
      /redis away/,
    );
    assert.equal(await outboxCount(), 3);
    assert.deepEqual(await deliveries(), []);
    assert.equal(Number((await p.db('outbox').whereNotNull('claimed_until').count('* as n'))[0]!.n), 0, 'the claim was released');

    // Two messages' worth of deliveries, one of them named twice: recorded once, returned once.
    const seen: number[] = [];
    const first = await drainOutbox(p.db, 2, async (messages) => {
      seen.push(...messages.map((m) => m.payload.n as number));
      return [delivery('d-1'), delivery('d-2'), delivery('d-1')];
    });
    assert.deepEqual(seen, [1, 2], 'oldest first, at most the limit');
    assert.equal(first.drained, 2);
    assert.deepEqual(first.recorded.map((r) => `${r.id}:${r.channel}`).sort(), ['d-1:push', 'd-2:push']);
    assert.equal(await outboxCount(), 1);
    assert.deepEqual(await deliveries(), ['d-1:queued', 'd-2:queued']);

    // A repeat of a delivery already recorded (a relay that died after its statement) records
    // nothing new, so nothing is enqueued twice; the rows still go.
    const second = await drainOutbox(p.db, 10, async () => [delivery('d-2'), delivery('d-3')]);
    assert.equal(second.drained, 1);
    assert.deepEqual(second.recorded.map((r) => r.id), ['d-3']);
    assert.equal(await outboxCount(), 0);
    assert.deepEqual(await deliveries(), ['d-1:queued', 'd-2:queued', 'd-3:queued']);
    assert.deepEqual(await drainOutbox(p.db, 10, async () => [delivery('never')]), { drained: 0, recorded: [] });
  });

  it('two relays at once take different messages; a lease an earlier relay wrote into a row is honoured while it lasts', async () => {
    await p.db('outbox').insert([10, 11, 12, 13].map((n) => ({ topic: 'test', payload: JSON.stringify({ n }) })));
    // A row an earlier relay leased for another minute, and one whose lease ran out.
    const [leased, lapsed] = await p.db('outbox').insert([{ topic: 'test', payload: JSON.stringify({ n: 14 }), claimed_until: p.db.raw("now() + interval '1 minute'") }, { topic: 'test', payload: JSON.stringify({ n: 15 }), claimed_until: p.db.raw("now() - interval '1 second'") }]).returning('id');

    // The first relay holds its two messages while it delivers them.
    let finish!: () => void;
    const delivering = new Promise<void>((resolve) => (finish = resolve));
    const firstSeen: number[] = [];
    const first = drainOutbox(p.db, 2, async (messages) => {
      firstSeen.push(...messages.map((m) => m.payload.n as number));
      await delivering;
      return [delivery('c-1')];
    });
    await eventually(() => firstSeen.length === 2, 5_000, 'the first relay to take its messages');
    const secondSeen: number[] = [];
    const second = await drainOutbox(p.db, 10, async (messages) => {
      secondSeen.push(...messages.map((m) => m.payload.n as number));
      return [delivery('c-2')];
    });
    finish();
    assert.equal((await first).drained, 2);
    assert.deepEqual(firstSeen, [10, 11]);
    assert.deepEqual(secondSeen, [12, 13, 15], 'the rows the first relay holds are skipped, and so is the live lease');
    assert.equal(second.drained, 3);
    assert.deepEqual((await p.db('outbox').select('id')).map((r) => r.id), [leased!.id]);
    assert.ok(lapsed);
    await p.db('outbox').delete();
  });

  it('a relay that hangs past its lease loses its session, and the next relay takes its messages', async () => {
    await p.db('outbox').insert({ topic: 'test', payload: JSON.stringify({ n: 20 }) });
    let taken!: () => void;
    const took = new Promise<void>((resolve) => (taken = resolve));
    const hung = drainOutbox(
      p.db,
      10,
      async () => {
        taken();
        await sleep(2_500);
        return [delivery('h-1')];
      },
      { leaseSeconds: 1 },
    );
    hung.catch(() => {});
    await took;
    const next = await eventually(async () => {
      const drained = await drainOutbox(p.db, 10, async () => [delivery('h-2')]);
      return drained.drained > 0 && drained;
    }, 5_000, 'the next relay to take the hung relay\'s message');
    assert.deepEqual(next.recorded.map((r) => r.id), ['h-2']);
    await assert.rejects(hung, 'the hung relay\'s transaction was ended');
    assert.deepEqual((await p.db('notification_deliveries').where('id', 'like', 'h-%').select('id')).map((r) => r.id), ['h-2'], 'the hung relay recorded nothing');
  });

  it('kicks share one waiting relay, and a kick while one runs leaves exactly one to follow it', async () => {
    const queue = p.queues.get('orders');
    const kick = relayKicker(p.queues, p.logger);
    const relays = async () => (await queue.getJobs(['waiting', 'delayed', 'active', 'prioritized'])).filter((j) => j.name === 'orders.outbox-relay');

    await Promise.all(Array.from({ length: 10 }, () => kick()));
    await kick();
    assert.equal((await relays()).length, 1, 'one waiting relay for eleven kicks');

    // A relay that runs until told to finish, standing in for a long drain.
    let finish!: () => void;
    const running = new Promise<void>((resolve) => (finish = resolve));
    const started: string[] = [];
    const worker = new Worker(
      QUEUES.orders.name,
      async (job) => {
        started.push(job.id!);
        if (started.length === 1) await running;
      },
      { connection: p.workerConnection(), prefix: p.prefix, concurrency: 5 },
    );
    worker.on('error', () => {});
    try {
      await eventually(() => started.length === 1, 10_000, 'the first relay to start');
      // Commits while it runs: their rows may be past its claim, so another relay must follow.
      await Promise.all(Array.from({ length: 5 }, () => kick()));
      await kick();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(started.length, 1, 'no second relay side by side with the first');
      finish();
      await eventually(() => started.length === 2, 10_000, 'one relay to follow the running one');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(started.length, 2, 'exactly one followed');
      assert.notEqual(started[1], started[0]);
      // Once all is done, the next kick gets a relay of its own again.
      await eventually(async () => (await relays()).length === 0, 10_000, 'the relays to finish');
      await kick();
      await eventually(() => started.length === 3, 10_000, 'a relay for a later kick');
    } finally {
      await worker.close();
    }
  });
});
