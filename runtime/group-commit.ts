/**
 * Group commit with a bound on batches in flight: a caller arriving while fewer than
 * `maxInFlight` batches run goes at the end of this event-loop turn, with everyone who arrived in
 * the same turn; callers arriving while the bound is reached wait, together, for the next free
 * slot. So an idle system adds no delay, and a busy one commits many writes per round trip (and
 * per fsync) instead of queueing one statement each on the database.
 *
 * With `lingerMs`, a caller arriving while a batch is already running waits up to that long for
 * company even when a slot is free: on a busy process the next batch then holds a few
 * milliseconds' worth of callers instead of the one or two of a single turn. A caller arriving
 * when nothing runs still goes at the end of its turn.
 */
export interface GroupCommitOptions {
  /** Batches running at once. Default 2. */
  maxInFlight?: number;
  /** Largest batch. Default 100. */
  maxSize?: number;
  /** How long a caller waits for company while another batch runs (ms). Default 0: no wait. */
  lingerMs?: number;
  /**
   * Told of every batch once it settled: its size, how long its oldest caller waited for it to
   * start (a free slot), and how long `run` took. For metrics; must not throw.
   */
  onBatch?: (batch: { size: number; waitedMs: number; tookMs: number }) => void;
}

/**
 * The linger of the API's status changes and accepts. At a hot spot the API writes about 800
 * status changes a second; a statement's fixed cost (bind, executor start-up, commit: about 310 µs
 * of Postgres) outweighs its cost per change (about 70 µs; bench/status-batches), and one
 * event-loop turn gathered only 3–4 changes. Waiting up to 25 ms while another batch runs gathers
 * 15–20, which took a fifth to a third off Postgres's CPU per match in bench/dispatch
 * (docs/benchmarks.md, tenth round), for up to 25 ms more on a busy API's answer.
 */
export const API_WRITE_LINGER_MS = 25;

/** `run` must return one result per input, in the same order. */
export function createGroupCommit<I, O>(run: (inputs: I[]) => Promise<O[]>, options: GroupCommitOptions = {}): (input: I) => Promise<O> {
  const maxInFlight = options.maxInFlight ?? 2;
  const maxSize = options.maxSize ?? 100;
  const lingerMs = options.lingerMs ?? 0;
  let pending: Array<{ input: I; at: number; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  let inFlight = 0;
  // The flush to come (end of turn, or a linger), if any: a batch that fills up goes at once and
  // cancels it, so no stale flush cuts the next batch's wait short.
  let scheduled: { cancel(): void } | undefined;

  const flush = () => {
    scheduled?.cancel();
    scheduled = undefined;
    while (pending.length > 0 && inFlight < maxInFlight) {
      const batch = pending.length <= maxSize ? pending : pending.slice(0, maxSize);
      pending = batch === pending ? [] : pending.slice(maxSize);
      inFlight++;
      const started = performance.now();
      run(batch.map((p) => p.input))
        .then((outputs) => {
          if (outputs.length !== batch.length) throw new Error(`batch returned ${outputs.length} results for ${batch.length} inputs`);
          batch.forEach((p, i) => p.resolve(outputs[i]!));
        })
        .catch((err: unknown) => batch.forEach((p) => p.reject(err)))
        .finally(() => {
          try {
            options.onBatch?.({ size: batch.length, waitedMs: started - batch[0]!.at, tookMs: performance.now() - started });
          } catch {
            // A metric lost is no reason to stall the next batch.
          }
          inFlight--;
          // Callers who found every slot taken go now; a lingering batch goes when its wait ends.
          if (!scheduled) flush();
        });
    }
  };

  return (input) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ input, at: performance.now(), resolve, reject });
      if (pending.length >= maxSize && inFlight < maxInFlight) flush();
      else if (!scheduled && inFlight < maxInFlight) {
        if (lingerMs > 0 && inFlight > 0) {
          const timer = setTimeout(flush, lingerMs);
          scheduled = { cancel: () => clearTimeout(timer) };
        } else {
          const immediate = setImmediate(flush);
          scheduled = { cancel: () => clearImmediate(immediate) };
        }
      }
    });
}
