import type { Knex } from 'knex';

/** How far ahead partitions are made and how long each table is kept. */
export interface PartitionWindow {
  /** Hourly raw partitions made ahead of the current hour. Default 3. */
  hoursAhead?: number;
  /** Daily rollup partitions made ahead of the current day. Default 2. */
  daysAhead?: number;
  /** Raw points are kept this many hours. Default 24. */
  rawHours?: number;
  /** Rollups are kept this many days. Default 7. */
  rollupDays?: number;
}

interface PartitionedTable {
  parent: string;
  /** Length of one partition in ms. */
  span: number;
  /** `YYYYMMDDHH` or `YYYYMMDD` of the partition's UTC start. */
  stamp(start: number): string;
  unstamp(stamp: string): number;
  pattern: RegExp;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const iso = (ms: number) => new Date(ms).toISOString();

export const RAW: PartitionedTable = {
  parent: 'rider_locations',
  span: HOUR,
  stamp: (start) => iso(start).slice(0, 13).replace(/[-T]/g, ''),
  unstamp: (s) => Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(8, 10)),
  pattern: /^rider_locations_p(\d{10})$/,
};

export const ROLLUPS: PartitionedTable = {
  parent: 'rider_location_rollups',
  span: DAY,
  stamp: (start) => iso(start).slice(0, 10).replaceAll('-', ''),
  unstamp: (s) => Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8)),
  pattern: /^rider_location_rollups_p(\d{8})$/,
};

const windowDefaults = (w: PartitionWindow) => ({ hoursAhead: 3, daysAhead: 2, rawHours: 24, rollupDays: 7, ...w });

/** `rider_locations_p2026112312` for the hour starting at 12:00 UTC on 2026-11-23. */
export function partitionName(table: PartitionedTable, start: number): string {
  return `${table.parent}_p${table.stamp(start)}`;
}

/**
 * Makes every partition from the oldest one still kept to `hoursAhead`/`daysAhead` past `now`,
 * so a restart after downtime also backfills the hours late points may still land in.
 * Safe to run concurrently: a partition another process made first is simply not reported.
 * Returns the names this call created.
 */
export async function ensurePartitions(db: Knex, now: number, window: PartitionWindow = {}): Promise<string[]> {
  const w = windowDefaults(window);
  const created = await ensureRange(db, RAW, now - w.rawHours * HOUR, now + w.hoursAhead * HOUR);
  created.push(...(await ensureRange(db, ROLLUPS, now - w.rollupDays * DAY, now + w.daysAhead * DAY)));
  return created;
}

/**
 * Detaches and drops every partition whose upper bound is at or before the retention cut-off.
 * Whole partitions only: rows are never deleted. Detach is CONCURRENTLY, so ingest keeps writing
 * to the parent meanwhile; for that reason this must not run inside a transaction.
 * Returns the names this call dropped.
 */
export async function dropExpiredPartitions(db: Knex, now: number, window: PartitionWindow = {}): Promise<string[]> {
  const w = windowDefaults(window);
  const dropped = await dropBefore(db, RAW, now - w.rawHours * HOUR);
  dropped.push(...(await dropBefore(db, ROLLUPS, now - w.rollupDays * DAY)));
  return dropped;
}

type PartitionState = 'attached' | 'pending' | 'detached';

/** Tables in the current schema named like partitions of `table`, attached or not. */
export async function listPartitions(db: Knex, table: PartitionedTable): Promise<Map<string, PartitionState>> {
  const { rows } = await db.raw<{ rows: { name: string; partition: boolean; pending: boolean | null }[] }>(
    `SELECT c.relname AS name, c.relispartition AS partition, i.inhdetachpending AS pending
       FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
      WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
        AND c.relkind = 'r' AND c.relname ~ ?`,
    [table.pattern.source],
  );
  return new Map(rows.map((r) => [r.name, !r.partition ? 'detached' : r.pending ? 'pending' : 'attached']));
}

async function ensureRange(db: Knex, table: PartitionedTable, from: number, to: number): Promise<string[]> {
  const existing = await listPartitions(db, table);
  const created: string[] = [];
  for (let start = Math.floor(from / table.span) * table.span; start <= to; start += table.span) {
    const name = partitionName(table, start);
    if (existing.has(name)) continue;
    try {
      // Bounds are our own ISO strings: DDL takes no bind parameters.
      await db.raw(`CREATE TABLE ?? PARTITION OF ?? FOR VALUES FROM ('${iso(start)}') TO ('${iso(start + table.span)}')`, [name, table.parent]);
      created.push(name);
    } catch (err) {
      // Lost a race with another process (duplicate table or catalog key): it exists now, fine.
      if (!(await listPartitions(db, table)).has(name)) throw err;
    }
  }
  return created;
}

async function dropBefore(db: Knex, table: PartitionedTable, cutoff: number): Promise<string[]> {
  const dropped: string[] = [];
  for (const [name, state] of await listPartitions(db, table)) {
    const stamp = table.pattern.exec(name)?.[1];
    if (!stamp || table.unstamp(stamp) + table.span > cutoff) continue;
    if (state !== 'detached' && !(await detach(db, table, name, state))) continue;
    await db.raw('DROP TABLE IF EXISTS ??', [name]);
    dropped.push(name);
  }
  return dropped;
}

/**
 * A detach left pending by a crash is finished with FINALIZE. Returns false when another process
 * is detaching or dropping the same partition right now: the next run drops what is left.
 */
async function detach(db: Knex, table: PartitionedTable, name: string, state: 'attached' | 'pending'): Promise<boolean> {
  try {
    await db.raw(`ALTER TABLE ?? DETACH PARTITION ?? ${state === 'pending' ? 'FINALIZE' : 'CONCURRENTLY'}`, [table.parent, name]);
    return true;
  } catch (err) {
    const after = (await listPartitions(db, table)).get(name);
    if (after === 'detached') return true;
    // Gone (another process dropped it) or mid-detach elsewhere: not ours to report.
    if (after === undefined || (state === 'attached' && after === 'pending')) return false;
    throw err;
  }
}
