import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createChannelHub } from '../runtime/channel-hub.ts';
import { createRedis, waitForRedis } from '../runtime/redis.ts';
import { createTestPlatform, eventually, testLogger, type TestPlatform } from './support/services.ts';

/** How many subscribers Redis delivers `channel` to right now. */
async function subscribers(platform: TestPlatform, channel: string): Promise<number> {
  const reply = (await platform.redis.pubsub('NUMSUB', channel)) as Array<string | number>;
  return Number(reply[1]);
}

describe('channel hub', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await createTestPlatform();
  });
  after(() => platform.cleanup());

  // Each case gets a fresh subscriber connection, still connecting when the first listener
  // arrives, as the API's is when its first stream opens.
  const freshHub = () => {
    const connection = createRedis(platform.urls.redisUrl, 'worker', testLogger());
    platform.releasers.add('test subscriber', () => connection.quit().catch(() => connection.disconnect()));
    return createChannelHub(connection);
  };

  it('every listener of a channel, not only the first, returns only once Redis delivers the channel', async () => {
    const hub = freshHub();
    const channel = `${platform.prefix}:hub-test:{a}`;
    const got: string[][] = [[], []];
    // Side by side on a connection that is still connecting: the second must not return before the
    // first one's SUBSCRIBE was acknowledged.
    const subscribing = hub.listen(channel, (m) => got[0]!.push(m));
    const joining = hub.listen(channel, (m) => got[1]!.push(m));
    await joining;
    assert.equal(await subscribers(platform, channel), 1, 'subscribed in Redis when the joining listener returned');
    assert.equal(await platform.redis.publish(channel, 'one'), 1);
    await subscribing;
    await eventually(() => got.every((m) => m.includes('one')), 5_000, 'both listeners to hear the message');
  });

  it('a channel listened to just as the connection comes up stays subscribed', async () => {
    // Connected, with ioredis' ready check (INFO) still on its way: a SUBSCRIBE written then made
    // the ready check fail, and ioredis dropped the connection, subscriptions and all, for a while.
    const connection = createRedis(platform.urls.redisUrl, 'worker', testLogger());
    platform.releasers.add('test subscriber', () => connection.quit().catch(() => connection.disconnect()));
    await new Promise((resolve) => connection.once('connect', resolve));
    let dropped = 0;
    connection.on('reconnecting', () => dropped++);
    const hub = createChannelHub(connection);
    const channel = `${platform.prefix}:hub-test:{c}`;
    const got: string[] = [];
    await hub.listen(channel, (m) => got.push(m));
    // Past the ready check: the connection has not been dropped under the subscription.
    await waitForRedis(connection);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(dropped, 0, 'the connection was never dropped');
    assert.equal(await platform.redis.publish(channel, 'three'), 1, 'Redis delivers the channel to the hub');
    await eventually(() => got.includes('three'), 5_000, 'the listener to hear the message');
  });

  it('a listener joining while the last one leaves is subscribed anew; the last to leave unsubscribes', async () => {
    const hub = freshHub();
    const channel = `${platform.prefix}:hub-test:{b}`;
    const got: string[] = [];
    const stopOld = await hub.listen(channel, () => {});
    // The old listener's UNSUBSCRIBE and the new one's SUBSCRIBE are on their way together.
    const leaving = stopOld();
    const stopNew = await hub.listen(channel, (m) => got.push(m));
    await leaving;
    assert.equal(await subscribers(platform, channel), 1);
    assert.equal(await platform.redis.publish(channel, 'two'), 1);
    await eventually(() => got.includes('two'), 5_000, 'the new listener to hear the message');
    await stopNew();
    await eventually(async () => (await subscribers(platform, channel)) === 0, 5_000, 'the channel unsubscribed');
  });
});
