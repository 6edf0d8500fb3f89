import type { Knex } from 'knex';
import { insertDeliveries, markSent, markUnsent, type NewDelivery, type SentResult } from '../db/notification-deliveries-repository.ts';
import { render } from '../domain/notifications/templates.ts';
import { enqueueDeliveries, type NotifyDeps } from '../notifications/notify.ts';
import { PermanentDeliveryError } from '../notifications/provider.ts';
import type { Providers } from '../notifications/providers/index.ts';

/**
 * The first attempt of a batch of gift messages, made by the gift worker itself instead of a
 * second BullMQ job per gift: at 00:00 that job, its queue round trips and its own read of the
 * delivery record were half of the work. The delivery row is still written before the provider
 * is called, with the same id a notification job would use, so every later path (a retry, the
 * notification reconciler, a repeated send of the same gift) finds it and sends nothing twice.
 * What the first attempt could not deliver goes on through the channel's queue with the attempts
 * that remain (3 in all); a permanent failure is recorded as failed at once.
 *
 * This attempt bypasses the channel queue's rate limiter: with a provider quota to respect, turn it
 * off (GIFT_DIRECT_SEND=false) and every message goes through the queue.
 */
export async function deliverDirectly(
  deps: NotifyDeps & { providers: Providers },
  /** One row per message, from `deliveryRows` (checked there). */
  rows: ReadonlyArray<NewDelivery>,
  /**
   * Records the sends that went out; the caller may fold its own bookkeeping into the same
   * statement, and may return follow-up messages it wrote there (already inserted, such as the
   * senders' "발송 완료"), which are then sent the same way.
   */
  recordSent: (sent: SentResult[]) => Promise<NewDelivery[] | void> = (sent) => markSent(deps.db, sent),
): Promise<string[]> {
  const fresh = new Set<string>();
  for (let i = 0; i < rows.length; i += 5_000) for (const id of await insertDeliveries(deps.db, rows.slice(i, i + 5_000))) fresh.add(id);
  // A row that already existed belongs to an earlier attempt: its job (added again, harmlessly) finishes it.
  const earlier = rows.filter((r) => !fresh.has(r.id));
  const followUps = await sendInserted(deps, rows.filter((r) => fresh.has(r.id)), recordSent);
  await enqueueDeliveries(deps, earlier);
  if (followUps && followUps.length > 0) await sendInserted(deps, followUps, (sent) => markSent(deps.db, sent));
  return rows.map((r) => r.id);
}

/**
 * The first attempt of deliveries whose rows this caller has just written: the provider calls,
 * one statement for the sends (`recordSent`), one per failure, and the retries queued.
 */
async function sendInserted<T>(deps: NotifyDeps & { providers: Providers }, rows: ReadonlyArray<NewDelivery>, recordSent: (sent: SentResult[]) => Promise<T>): Promise<T> {
  const attempts = await Promise.all(rows.map((row) => attempt(deps.providers, row)));
  const sent = attempts.filter((a): a is { row: NewDelivery; sent: SentResult } => 'sent' in a);
  const failed = attempts.filter((a): a is Failure => 'error' in a);
  const recorded = await recordSent(sent.map((a) => a.sent));
  await recordFailures(deps.db, failed);
  await enqueueDeliveries(deps, failed.filter((f) => !(f.error instanceof PermanentDeliveryError)).map((f) => f.row), { priorAttempts: 1 });
  return recorded;
}

type Failure = { row: NewDelivery; error: Error; provider: string };

async function attempt(providers: Providers, row: NewDelivery): Promise<{ row: NewDelivery; sent: SentResult } | Failure> {
  const provider = providers[row.channel];
  try {
    // The data was checked when the row was built; rendering only fills the template.
    const message = render(row.event as Parameters<typeof render>[0], row.data);
    const result = await provider.send({ deliveryId: row.id, event: row.event, recipient: row.recipient, message });
    return { row, sent: { id: row.id, attempts: 1, provider: provider.name, ...result } };
  } catch (err) {
    return { row, error: err instanceof Error ? err : new Error(String(err)), provider: provider.name };
  }
}

/** Failures are the exception: one statement each. */
async function recordFailures(db: Knex, failed: Failure[]): Promise<void> {
  for (const { row, error, provider } of failed) {
    const permanent = error instanceof PermanentDeliveryError;
    await markUnsent(db, { id: row.id, attempts: 1, provider, status: permanent ? 'failed' : 'retrying', error: error.message });
  }
}
