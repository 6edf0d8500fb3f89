/**
 * Group commit for concurrent callers: requests made within `maxWaitMs` of each other (or until
 * `maxSize` are waiting) run as one batch, and each caller gets its own result back. Many jobs
 * in flight then cost a few round trips and one fsync instead of one each.
 */
export interface BatcherOptions {
  /** Largest batch. Default 500. */
  maxSize?: number;
  /**
   * Longest a request waits for company, in ms. Default 2. With 0 the batch closes at the end of
   * the current event-loop turn: everything that arrived together goes together, at no added delay.
   */
  maxWaitMs?: number;
}

export type Batcher<I, O> = ((input: I) => Promise<O>) & {
  /** Runs the waiting requests now instead of when their wait ends (at shutdown); settles once they have run. */
  flush(): Promise<void>;
};

/** `run` must return one result per input, in the same order. */
export function createBatcher<I, O>(run: (inputs: I[]) => Promise<O[]>, options: BatcherOptions = {}): Batcher<I, O> {
  const maxSize = options.maxSize ?? 500;
  const maxWaitMs = options.maxWaitMs ?? 2;
  let pending: Array<{ input: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  const flush = (): Promise<void> => {
    if (maxWaitMs === 0) clearImmediate(timer as NodeJS.Immediate);
    else clearTimeout(timer as NodeJS.Timeout);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return Promise.resolve();
    return run(batch.map((p) => p.input)).then(
      (outputs) => {
        if (outputs.length !== batch.length) throw new Error(`batch returned ${outputs.length} results for ${batch.length} inputs`);
        batch.forEach((p, i) => p.resolve(outputs[i]!));
      },
      (err) => batch.forEach((p) => p.reject(err)),
    ).catch((err) => batch.forEach((p) => p.reject(err)));
  };

  const request = (input: I) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ input, resolve, reject });
      if (pending.length >= maxSize) void flush();
      else timer ??= maxWaitMs === 0 ? setImmediate(flush) : setTimeout(flush, maxWaitMs);
    });
  return Object.assign(request, { flush });
}
