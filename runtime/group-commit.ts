/**
 * Group commit with a bound on batches in flight: a caller arriving while fewer than
 * `maxInFlight` batches run goes at the end of this event-loop turn, with everyone who arrived in
 * the same turn; callers arriving while the bound is reached wait, together, for the next free
 * slot. So an idle system adds no delay, and a busy one commits many writes per round trip (and
 * per fsync) instead of queueing one statement each on the database.
 */
export interface GroupCommitOptions {
  /** Batches running at once. Default 2. */
  maxInFlight?: number;
  /** Largest batch. Default 100. */
  maxSize?: number;
}

/** `run` must return one result per input, in the same order. */
export function createGroupCommit<I, O>(run: (inputs: I[]) => Promise<O[]>, options: GroupCommitOptions = {}): (input: I) => Promise<O> {
  const maxInFlight = options.maxInFlight ?? 2;
  const maxSize = options.maxSize ?? 100;
  let pending: Array<{ input: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  let inFlight = 0;
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    while (pending.length > 0 && inFlight < maxInFlight) {
      const batch = pending.length <= maxSize ? pending : pending.slice(0, maxSize);
      pending = batch === pending ? [] : pending.slice(maxSize);
      inFlight++;
      run(batch.map((p) => p.input))
        .then((outputs) => {
          if (outputs.length !== batch.length) throw new Error(`batch returned ${outputs.length} results for ${batch.length} inputs`);
          batch.forEach((p, i) => p.resolve(outputs[i]!));
        })
        .catch((err: unknown) => batch.forEach((p) => p.reject(err)))
        .finally(() => {
          inFlight--;
          flush();
        });
    }
  };

  return (input) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ input, resolve, reject });
      if (!scheduled && inFlight < maxInFlight) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
