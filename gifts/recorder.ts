import type { Logger } from '../runtime/logger.ts';

/** Gifts one record statement writes. */
const MAX_BATCH = 1_000;

/**
 * Longest a record waits behind sends. The senders' "발송 완료" goes out with the record, and
 * seed 004 wants notifications within 30 s; at 00:00 the sends of 100,000 gifts are over well
 * before this, so it only bounds a pathological backlog.
 */
const MAX_HOLD_MS = 20_000;

/** How long the sends must have been idle before a record starts (a batch job is being fetched). */
const IDLE_FOR_MS = 20;

const RETRIES = [200, 1_000, 3_000];

/**
 * Holds back the record of gifts already sent (their delivery rows, history and the senders'
 * notices, see direct-delivery.ts `recordHeld`) while this process has sends to make, and writes
 * it one statement at a time when the sends are idle (or after {@link MAX_HOLD_MS}). At 00:00 the
 * record is two thirds of the work per gift; written between the sends it delayed every batch
 * after it, held back it follows them. Each `record` call resolves when its items are on record,
 * so a job finishes only once its gifts are recorded, and a job whose record failed or whose
 * process died is retried (see `resume` in sender.ts).
 */
export function createRecorder<T>(write: (batch: T[]) => Promise<void>, options: { idle: () => boolean; logger: Logger }) {
  const pending: Array<{ items: T[]; at: number; resolve: () => void; reject: (err: unknown) => void }> = [];
  let writing = false;
  let timer: NodeJS.Timeout | undefined;
  let idleSince: number | undefined;

  const schedule = (ms: number) => {
    if (timer || writing) return;
    timer = setTimeout(() => {
      timer = undefined;
      void pump();
    }, ms);
    timer.unref?.();
  };

  const pump = async () => {
    if (writing || pending.length === 0) return;
    const now = Date.now();
    if (options.idle()) idleSince ??= now;
    else idleSince = undefined;
    const ready = (idleSince !== undefined && now - idleSince >= IDLE_FOR_MS) || now - pending[0]!.at >= MAX_HOLD_MS;
    if (!ready) return schedule(10);
    writing = true;
    const taken: typeof pending = [];
    let size = 0;
    while (pending.length > 0 && (taken.length === 0 || size + pending[0]!.items.length <= MAX_BATCH)) {
      const entry = pending.shift()!;
      taken.push(entry);
      size += entry.items.length;
    }
    try {
      await writeWithRetries(taken.flatMap((e) => e.items));
      for (const e of taken) e.resolve();
    } catch (err) {
      for (const e of taken) e.reject(err);
    } finally {
      writing = false;
      if (pending.length > 0) schedule(0);
    }
  };

  const writeWithRetries = async (items: T[]) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write(items);
      } catch (err) {
        if (attempt >= RETRIES.length) throw err;
        options.logger.warn({ err, gifts: items.length, attempt: attempt + 1 }, 'gift record failed; retrying');
        await new Promise((r) => setTimeout(r, RETRIES[attempt]));
      }
    }
  };

  return {
    /** Resolves once `items` are on record. */
    record(items: T[]): Promise<void> {
      if (items.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        pending.push({ items, at: Date.now(), resolve, reject });
        schedule(0);
      });
    },
  };
}
