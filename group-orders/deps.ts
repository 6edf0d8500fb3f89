import type { Knex } from 'knex';
import type { NotifyInput } from '../notifications/notify.ts';
import type { OutboxMessage } from '../db/orders-repository.ts';
import { NOTIFY_TOPIC } from '../orders/outbox-messages.ts';
import type { Config } from '../runtime/config.ts';
import type { Logger } from '../runtime/logger.ts';
import type { QueueSet } from '../runtime/queues.ts';
import type { OpenGroupIndex } from './open-index.ts';

/** What the group-order use cases need; the API and the group-orders pool both build one. */
export interface GroupOrderDeps {
  db: Knex;
  index: OpenGroupIndex;
  queues: QueueSet;
  config: Pick<Config, 'credits' | 'groupOrders'>;
  logger: Logger;
  /** Runs the outbox relay soon, so notifications written with a change go out at once. */
  kickRelay(): Promise<void>;
}

export const EXPIRE_JOB = 'group-orders.expire';

/** Credits of both parties are held and captured under this reference. */
export const creditRef = (groupOrderId: string) => ({ type: 'group_order', id: groupOrderId });

export type Invalid = { kind: 'invalid'; path: string; message: string };

/** A notification committed with the change it announces; the outbox relay sends it. */
export function notifyMessage(input: NotifyInput): OutboxMessage {
  return { topic: NOTIFY_TOPIC, payload: input as unknown as Record<string, unknown> };
}

/** Best effort after a commit: a failure leaves work the reconciler or the expiry job redoes. */
export async function afterCommit(deps: GroupOrderDeps, what: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    deps.logger.warn({ err: (err as Error).message }, `group order: ${what} failed; the reconciler will catch up`);
  }
}
