import type { Redis } from 'ioredis';

/**
 * Many listeners over one Redis subscriber connection: the first listener of a channel
 * subscribes, the last one to leave unsubscribes. One connection serves every open stream.
 */
export interface ChannelHub {
  listen(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
}

export function createChannelHub(subscriber: Redis): ChannelHub {
  const listeners = new Map<string, Set<(message: string) => void>>();
  subscriber.on('message', (channel: string, message: string) => {
    for (const listener of listeners.get(channel) ?? []) listener(message);
  });
  return {
    async listen(channel, onMessage) {
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
        await subscriber.subscribe(channel);
      }
      set.add(onMessage);
      return async () => {
        set.delete(onMessage);
        if (set.size === 0 && listeners.get(channel) === set) {
          listeners.delete(channel);
          await subscriber.unsubscribe(channel).catch(() => {});
        }
      };
    },
  };
}
