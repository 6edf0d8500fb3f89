import type { Knex } from 'knex';
import { deliveryId, recipientKey } from '../domain/notifications/addressing.ts';
import { EVENT_DATA, type EventData, type NotificationEvent } from '../domain/notifications/events.ts';
import { insertDeliveries, type NewDelivery } from '../db/notification-deliveries-repository.ts';
import type { Config } from '../runtime/config.ts';
import type { QueueSet } from '../runtime/queues.ts';
import { CHANNEL_QUEUE } from './channel-queues.ts';
import type { Channel, Recipient } from './provider.ts';

export interface NotifyInput<E extends NotificationEvent = NotificationEvent> {
  event: E;
  recipient: Recipient;
  channels: readonly Channel[];
  data: EventData<E>;
  /**
   * Names the occurrence being announced (`order:42:COOKING`, `gift:7:sent`). The same key, event,
   * recipient and channel is enqueued once, however often `notify` is called.
   */
  idempotencyKey: string;
}

export interface NotifyDeps {
  db: Knex;
  queues: QueueSet;
  config: Config;
}

export interface NotifyResult {
  deliveries: Array<{ id: string; channel: Channel; enqueued: boolean }>;
}

/** A caller's mistake: unknown data shape, or a channel the recipient has no address for. */
export class NotifyError extends Error {
  override name = 'NotifyError';
}

/**
 * The one way deligo tells people things: one `notification_deliveries` row and one job per
 * (event, recipient, channel). The row is written first, so a crash before the enqueue leaves a
 * record that the reconciler re-enqueues; the job id is the row id, so nothing doubles.
 */
export async function notify<E extends NotificationEvent>(deps: NotifyDeps, input: NotifyInput<E>): Promise<NotifyResult> {
  const parsed = EVENT_DATA[input.event].safeParse(input.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new NotifyError(`${input.event}: data.${issue.path.join('.')} ${issue.message}`);
  }
  if (input.channels.length === 0) throw new NotifyError(`${input.event}: no channel given`);
  const rows: NewDelivery[] = [...new Set(input.channels)].map((channel) => {
    const key = recipientKey(channel, input.recipient);
    if (!key) throw new NotifyError(`${input.event}: recipient has no address for ${channel}`);
    return {
      id: deliveryId(input.idempotencyKey, input.event, key, channel),
      idempotency_key: input.idempotencyKey,
      event: input.event,
      channel,
      recipient_key: key,
      recipient: input.recipient,
      data: parsed.data as Record<string, unknown>,
    };
  });
  const fresh = new Set(await insertDeliveries(deps.db, rows));
  await enqueueDeliveries(deps, rows.filter((r) => fresh.has(r.id)));
  return { deliveries: rows.map((r) => ({ id: r.id, channel: r.channel, enqueued: fresh.has(r.id) })) };
}

/** Adds one send job per delivery; a job that already exists under that id is left alone. */
export async function enqueueDeliveries(deps: Pick<NotifyDeps, 'queues' | 'config'>, rows: Array<{ id: string; channel: Channel }>): Promise<void> {
  const backoff = { type: 'exponential', delay: deps.config.notifications.backoffMs, jitter: 0.5 };
  const byQueue = new Map<Channel, Array<{ id: string }>>();
  for (const row of rows) byQueue.set(row.channel, [...(byQueue.get(row.channel) ?? []), row]);
  await Promise.all(
    [...byQueue].map(([channel, list]) =>
      deps.queues.get(CHANNEL_QUEUE[channel]).addBulk(
        list.map(({ id }) => ({ name: 'notification.send', data: { deliveryId: id }, opts: { jobId: id, attempts: 3, backoff } })),
      ),
    ),
  );
}
