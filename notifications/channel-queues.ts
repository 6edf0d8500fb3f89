import type { QueueId } from '../runtime/queue-registry.ts';
import type { Channel } from './provider.ts';

/** Each channel has its own queue, so each provider has its own rate limit. */
export const CHANNEL_QUEUE: Record<Channel, QueueId> = {
  push: 'notifyPush',
  sms: 'notifySms',
  email: 'notifyEmail',
  kakao: 'notifyKakao',
};

export const NOTIFICATION_QUEUES: readonly QueueId[] = Object.values(CHANNEL_QUEUE);

export function channelOfQueue(queue: QueueId): Channel | undefined {
  return (Object.keys(CHANNEL_QUEUE) as Channel[]).find((channel) => CHANNEL_QUEUE[channel] === queue);
}
