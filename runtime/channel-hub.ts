import type { Redis } from 'ioredis';
import { waitForRedis } from './redis.ts';

/**
 * Many listeners over one Redis subscriber connection: the first listener of a channel
 * subscribes, the last one to leave unsubscribes. One connection serves every open stream.
 */
export interface ChannelHub {
  /**
   * Resolves once Redis has acknowledged the channel's subscription, so every message published
   * after that reaches `onMessage`; the returned function stops listening.
   */
  listen(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
}

interface Subscription {
  listeners: Set<(message: string) => void>;
  /** Settles when Redis has acknowledged the SUBSCRIBE; every listener waits for it, not only the first. */
  ready: Promise<void>;
}

export function createChannelHub(subscriber: Redis): ChannelHub {
  const channels = new Map<string, Subscription>();
  subscriber.on('message', (channel: string, message: string) => {
    for (const listener of channels.get(channel)?.listeners ?? []) listener(message);
  });
  const leave = async (channel: string, subscription: Subscription, onMessage: (message: string) => void) => {
    subscription.listeners.delete(onMessage);
    if (subscription.listeners.size > 0 || channels.get(channel) !== subscription) return;
    channels.delete(channel);
    // A listener arriving after this makes a new subscription; Redis runs this connection's
    // UNSUBSCRIBE and that later SUBSCRIBE in the order they were sent.
    await subscriber.unsubscribe(channel).catch(() => {});
  };
  return {
    async listen(channel, onMessage) {
      let subscription = channels.get(channel);
      if (!subscription) {
        const created: Subscription = { listeners: new Set(), ready: subscribeWhenReady(subscriber, channel) };
        // A failed SUBSCRIBE must not leave a subscription that later listeners would trust.
        created.ready.catch(() => channels.get(channel) === created && channels.delete(channel));
        channels.set(channel, (subscription = created));
      }
      subscription.listeners.add(onMessage);
      try {
        // A second listener of a channel whose SUBSCRIBE is still on its way waits for it too: it
        // would otherwise send its snapshot while Redis does not yet deliver the channel to us.
        await subscription.ready;
      } catch (err) {
        subscription.listeners.delete(onMessage);
        throw err;
      }
      const joined = subscription;
      return () => leave(channel, joined, onMessage);
    },
  };
}

/**
 * SUBSCRIBE only on a ready connection. ioredis writes SUBSCRIBE at once on a connection that has
 * connected but not finished its ready check (the command may run while Redis loads); Redis then
 * answers the ready check's INFO in subscriber mode with an error, and ioredis drops the
 * connection and reconnects, resubscribing a few hundred ms later. The SUBSCRIBE had been
 * acknowledged, so the stream sent its snapshot, and updates published in that gap were lost.
 */
async function subscribeWhenReady(subscriber: Redis, channel: string): Promise<void> {
  if (subscriber.status !== 'ready') await waitForRedis(subscriber);
  await subscriber.subscribe(channel);
}
