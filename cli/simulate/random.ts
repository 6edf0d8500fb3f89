/** A small seeded PRNG (mulberry32), so a simulation can be replayed with `--seed`. */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const between = (random: Random, low: number, high: number) => low + (high - low) * random();
export const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** Waiting time to the next event of a Poisson process with `perMinute` events a minute, in ms. */
export function nextArrivalMs(random: Random, perMinute: number): number {
  return (-Math.log(1 - random()) / perMinute) * 60_000;
}
