import type { Knex } from 'knex';
import { quantile } from './stats.ts';

export interface PgCounters {
  /** Transactions committed in this database so far. */
  commits: number;
  /** WAL fsyncs (or fdatasyncs) so far, by every process of the server. */
  walFsyncs: number;
  /** ms spent in them (track_wal_io_timing is turned on by `commitProbe`). */
  walFsyncMs: number;
  /** WAL written so far, in bytes, and the full-page images in it (pg_stat_wal). */
  walBytes: number;
  walFpi: number;
  /** Checkpoints started so far, timed and requested (pg_stat_checkpointer). */
  checkpoints: number;
  minus(other: PgCounters): PgCounters;
}

/** Commit and WAL flush counters of the server behind `db` (PostgreSQL 16+: pg_stat_io). */
export async function pgCounters(db: Knex): Promise<PgCounters> {
  // Statistics are flushed by each backend at most once a second; ask ours to flush now.
  await db.raw('SELECT pg_stat_force_next_flush()');
  const { rows } = await db.raw<{ rows: Array<{ commits: string; fsyncs: string | null; fsync_ms: number | null; wal_bytes: string; wal_fpi: string; checkpoints: string }> }>(
    `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits,
            (SELECT sum(fsyncs) FROM pg_stat_io WHERE object = 'wal') AS fsyncs,
            (SELECT sum(fsync_time) FROM pg_stat_io WHERE object = 'wal') AS fsync_ms,
            (SELECT wal_bytes FROM pg_stat_wal) AS wal_bytes,
            (SELECT wal_fpi FROM pg_stat_wal) AS wal_fpi,
            (SELECT num_timed + num_requested FROM pg_stat_checkpointer) AS checkpoints`,
  );
  const row = rows[0]!;
  return counters({ commits: Number(row.commits), walFsyncs: Number(row.fsyncs ?? 0), walFsyncMs: Number(row.fsync_ms ?? 0), walBytes: Number(row.wal_bytes), walFpi: Number(row.wal_fpi), checkpoints: Number(row.checkpoints) });
}

type Figures = Omit<PgCounters, 'minus'>;

function counters(f: Figures): PgCounters {
  const keys = Object.keys(f) as Array<keyof Figures>;
  return { ...f, minus: (o) => counters(Object.fromEntries(keys.map((k) => [k, f[k] - o[k]])) as unknown as Figures) };
}

/**
 * Times `n` one-row INSERTs, each its own transaction (so each waits for its WAL flush), in a
 * scratch table of the bench's throwaway database: what a commit costs on this machine's disk.
 * Also turns on WAL I/O timing, so pgCounters reports fsync time.
 */
export async function commitProbe(db: Knex, n: number): Promise<{ p50: number; p99: number; max: number }> {
  await db.raw('ALTER SYSTEM SET track_wal_io_timing = on');
  await db.raw('SELECT pg_reload_conf()');
  await db.raw('CREATE TABLE IF NOT EXISTS bench_commit_probe (n int)');
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await db.raw('INSERT INTO bench_commit_probe VALUES (?)', [i]);
    times.push(performance.now() - t);
  }
  await db.raw('DROP TABLE bench_commit_probe');
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), max: Math.max(...times) };
}
