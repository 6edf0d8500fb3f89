/**
 * Redis keys of live rider state. Every key carries a hash tag, so on Redis Cluster each rider's
 * state and each geo cell land in their own slots instead of one hot one.
 */
export interface LocationKeys {
  /** Hash: latest position, its recordedAt, status, current cell. */
  rider(riderId: string): string;
  /** What comes before and after the rider id in {@link rider}'s key, for a script that builds it. */
  riderKeyAround: [string, string];
  /** GEO set of available riders in one cell. */
  cell(cellId: string): string;
  /** Pattern matching every cell key (for the sweeper). */
  allCells: string;
  /** Pub/sub channel with each new position of a rider. */
  updates(riderId: string): string;
  /** One shard of the fleet index: riders by when their live state last changed (see fleet-index.ts). */
  fleet(shard: number): string;
}

export function locationKeys(prefix: string): LocationKeys {
  return {
    rider: (riderId) => `${prefix}:rider:{${riderId}}`,
    riderKeyAround: [`${prefix}:rider:{`, '}'],
    cell: (cellId) => `${prefix}:geo:{${cellId}}`,
    allCells: `${prefix}:geo:{*}`,
    updates: (riderId) => `${prefix}:rider-updates:{${riderId}}`,
    fleet: (shard) => `${prefix}:fleet:{${shard}}`,
  };
}
