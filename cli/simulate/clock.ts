import { setTimeout as delay } from 'node:timers/promises';

/** Sleeps that end early, quietly, when the run stops. Returns false when stopped. */
export async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
