import { setTimeout as sleep } from 'node:timers/promises';
/** Order statistics for benchmark samples. The machines are shared and noisy: quote medians. */
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

export const median = (samples: number[]) => quantile(samples, 0.5);

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/**
 * Issues one call per item at `perSecond` on a fixed schedule (open loop: a slow answer does not
 * delay the next call) and returns each call's latency in ms.
 */
export async function paced<T>(items: T[], perSecond: number, run: (item: T) => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  const started = performance.now();
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < items.length; i++) {
    const wait = started + (i * 1_000) / perSecond - performance.now();
    if (wait > 1) await sleep(wait);
    const t = performance.now();
    pending.push(run(items[i]!).then(() => void latencies.push(performance.now() - t)));
  }
  await Promise.all(pending);
  return latencies;
}
