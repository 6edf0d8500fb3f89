import type { Logger } from '../runtime/logger.ts';

/** Gifts one record statement writes. */
const MAX_BATCH = 1_000;

/**
 * Longest a record waits behind sends before it is written anyway: it only bounds a pathological
 * backlog (at 00:00 the sends of 100,000 gifts are over well before this).
 */
const MAX_HOLD_MS = 20_000;

/**
 * Longest the senders' "발송 완료" waits behind sends. Seed 004 wants notifications within 30 s of
 * the event; telling is a provider call per sender and no database work, a small fraction of the
 * record, so it goes first and soon, a couple of batches at a time.
 */
const TELL_HOLD_MS = 2_000;

/** How long the sends must have been idle before a record starts (a batch job is being fetched). */
const IDLE_FOR_MS = 20;

const RETRIES = [200, 1_000, 3_000];

/**
 * Holds back the record of gifts already sent while this process has sends to make, in two steps
 * (see direct-delivery.ts `tellSenders` and `writeRecords`):
 * 1. `tell`: the senders' notices are handed to the provider, for everything pending, as soon as
 *    the sends are idle (or after {@link TELL_HOLD_MS});
 * 2. `write`: the record (delivery rows, history, the notices' rows) is written one statement at a
 *    time while the sends are idle (or after {@link MAX_HOLD_MS}).
 * At 00:00 the record is two thirds of the work per gift; written between the sends it delayed
 * every batch after it, held back it follows them; and with the notices sent before it, the senders
 * no longer wait for a whole burst's record (100,000 gifts: p99 39 s after the send time when the
 * notices went with their slice of the record). Each `record` call resolves when its items are on
 * record, so a job finishes only once its gifts are recorded, and a job whose record failed or
 * whose process died is retried (see `resume` in sender.ts).
 */
export function createRecorder<T, R>(steps: { tell: (items: T[]) => Promise<R[]>; write: (records: R[]) => Promise<void> }, options: { idle: () => boolean; logger: Logger }) {
  type Entry = { items: T[]; told?: R[]; at: number; resolve: () => void; reject: (err: unknown) => void };
  const pending: Entry[] = [];
  let busy = false;
  let timer: NodeJS.Timeout | undefined;
  let idleSince: number | undefined;

  const schedule = (ms: number) => {
    if (timer || busy) return;
    timer = setTimeout(() => {
      timer = undefined;
      void pump();
    }, ms);
    timer.unref?.();
  };

  const pump = async () => {
    if (busy || pending.length === 0) return;
    const now = Date.now();
    if (options.idle()) idleSince ??= now;
    else idleSince = undefined;
    const idle = idleSince !== undefined && now - idleSince >= IDLE_FOR_MS;
    const untold = pending.filter((e) => !e.told);
    const tellNow = untold.length > 0 && (idle || now - untold[0]!.at >= TELL_HOLD_MS);
    const writeNow = idle || now - pending[0]!.at >= MAX_HOLD_MS;
    if (!tellNow && !writeNow) return schedule(10);
    busy = true;
    try {
      if (tellNow) {
        for (const e of untold) await tell(e);
      } else {
        const taken: Entry[] = [];
        let size = 0;
        while (pending.length > 0 && (taken.length === 0 || size + pending[0]!.items.length <= MAX_BATCH)) {
          const entry = pending.shift()!;
          taken.push(entry);
          size += entry.items.length;
        }
        for (const e of taken) if (!e.told) await tell(e);
        const told = taken.filter((e) => e.told);
        try {
          await withRetries('gift record failed; retrying', size, () => steps.write(told.flatMap((e) => e.told!)));
          for (const e of told) e.resolve();
        } catch (err) {
          for (const e of told) e.reject(err);
        }
      }
    } finally {
      busy = false;
      if (pending.length > 0) schedule(0);
    }
  };

  /** Tells the senders of one entry; an entry that cannot be told is failed (its job is retried). */
  const tell = async (e: Entry) => {
    try {
      e.told = await withRetries('gift senders not told; retrying', e.items.length, () => steps.tell(e.items));
    } catch (err) {
      const i = pending.indexOf(e);
      if (i >= 0) pending.splice(i, 1);
      e.reject(err);
    }
  };

  const withRetries = async <X>(what: string, gifts: number, fn: () => Promise<X>): Promise<X> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (attempt >= RETRIES.length) throw err;
        options.logger.warn({ err, gifts, attempt: attempt + 1 }, what);
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
