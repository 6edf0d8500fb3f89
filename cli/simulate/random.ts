import type { Random } from '../../domain/random.ts';

/** The simulator's PRNG is the seeded one, so a run can be replayed with `--seed`. */
export { seededRandom, type Random } from '../../domain/random.ts';

export const between = (random: Random, low: number, high: number) => low + (high - low) * random();
export const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** Waiting time to the next event of a Poisson process with `perMinute` events a minute, in ms. */
export function nextArrivalMs(random: Random, perMinute: number): number {
  return (-Math.log(1 - random()) / perMinute) * 60_000;
}
