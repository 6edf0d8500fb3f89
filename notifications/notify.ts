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
  const [result] = await notifyMany(deps, [input]);
  return result!;
}

/**
 * {@link notify} for many occurrences at once (a sweep that tells thousands of people): one
 * multi-row insert per few thousand rows and one `addBulk` per channel, instead of a pair each.
 * Every input is checked before anything is written, so one bad input writes nothing.
 */
export async function notifyMany(deps: NotifyDeps, inputs: ReadonlyArray<NotifyInput>): Promise<NotifyResult[]> {
  const perInput = inputs.map(deliveryRows);
  const unique = [...new Map(perInput.flat().map((r) => [r.id, r])).values()];
  const fresh = new Set<string>();
  // Postgres takes at most 65,535 parameters per statement: seven per row.
  for (let i = 0; i < unique.length; i += 5_000) for (const id of await insertDeliveries(deps.db, unique.slice(i, i + 5_000))) fresh.add(id);
  await enqueueDeliveries(deps, unique.filter((r) => fresh.has(r.id)));
  return perInput.map((rows) => ({ deliveries: rows.map((r) => ({ id: r.id, channel: r.channel, enqueued: fresh.has(r.id) })) }));
}

/** The delivery rows of one input (one per channel), checked; throws {@link NotifyError}. */
export function deliveryRows(input: NotifyInput): NewDelivery[] {
  const parsed = EVENT_DATA[input.event].safeParse(input.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new NotifyError(`${input.event}: data.${issue.path.join('.')} ${issue.message}`);
  }
  if (input.channels.length === 0) throw new NotifyError(`${input.event}: no channel given`);
  return [...new Set(input.channels)].map((channel) => {
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
}

/**
 * Adds one send job per delivery; a job that already exists under that id is left alone.
 * `priorAttempts`: attempts already made outside a job (a gift's first attempt goes straight to
 * the provider from the gift worker); the job gets only what is left of the 3, starting after
 * one backoff delay.
 */
export async function enqueueDeliveries(deps: Pick<NotifyDeps, 'queues' | 'config'>, rows: Array<{ id: string; channel: Channel }>, options: { priorAttempts?: number } = {}): Promise<void> {
  const backoff = { type: 'exponential', delay: deps.config.notifications.backoffMs, jitter: 0.5 };
  const prior = Math.min(options.priorAttempts ?? 0, 2);
  const data = (id: string) => (prior > 0 ? { deliveryId: id, priorAttempts: prior } : { deliveryId: id });
  const later = prior > 0 ? { delay: deps.config.notifications.backoffMs } : {};
  const byQueue = new Map<Channel, Array<{ id: string }>>();
  for (const row of rows) {
    const list = byQueue.get(row.channel);
    if (list) list.push(row);
    else byQueue.set(row.channel, [row]);
  }
  await Promise.all(
    [...byQueue].map(([channel, list]) =>
      deps.queues.get(CHANNEL_QUEUE[channel]).addBulk(
        list.map(({ id }) => ({ name: 'notification.send', data: data(id), opts: { jobId: id, attempts: 3 - prior, backoff, ...later } })),
      ),
    ),
  );
}
