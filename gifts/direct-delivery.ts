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
  /** Records the sends that went out; the caller may fold its own bookkeeping into the same statement. */
  recordSent: (sent: SentResult[]) => Promise<void> = (sent) => markSent(deps.db, sent),
): Promise<string[]> {
  const fresh = new Set<string>();
  for (let i = 0; i < rows.length; i += 5_000) for (const id of await insertDeliveries(deps.db, rows.slice(i, i + 5_000))) fresh.add(id);
  // A row that already existed belongs to an earlier attempt: its job (added again, harmlessly) finishes it.
  const earlier = rows.filter((r) => !fresh.has(r.id));
  const { sent, failed } = await attemptAll(deps.providers, rows.filter((r) => fresh.has(r.id)));
  await recordSent(sent);
  await recordFailures(deps.db, failed);
  await enqueueDeliveries(deps, earlier);
  await enqueueDeliveries(deps, failed.filter((f) => !(f.error instanceof PermanentDeliveryError)).map((f) => f.row), { priorAttempts: 1 });
  return rows.map((r) => r.id);
}

/** One provider call per row, side by side: what went out, and what did not and why. */
export async function attemptAll(providers: Providers, rows: ReadonlyArray<NewDelivery>): Promise<{ sent: SentResult[]; failed: Failure[] }> {
  const attempts = await Promise.all(rows.map((row) => attempt(providers, row)));
  return {
    sent: attempts.filter((a): a is { row: NewDelivery; sent: SentResult } => 'sent' in a).map((a) => a.sent),
    failed: attempts.filter((a): a is Failure => 'error' in a),
  };
}

export type Failure = { row: NewDelivery; error: Error; provider: string };

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
