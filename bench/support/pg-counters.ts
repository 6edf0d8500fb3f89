import type { Knex } from 'knex';
import { quantile } from './stats.ts';

export interface PgCounters {
  /** Transactions committed in this database so far. */
  commits: number;
  /** WAL fsyncs (or fdatasyncs) so far, by every process of the server. */
  walFsyncs: number;
  /** ms spent in them (track_wal_io_timing is turned on by `commitProbe`). */
  walFsyncMs: number;
  minus(other: PgCounters): PgCounters;
}

/** Commit and WAL flush counters of the server behind `db` (PostgreSQL 16+: pg_stat_io). */
export async function pgCounters(db: Knex): Promise<PgCounters> {
  // Statistics are flushed by each backend at most once a second; ask ours to flush now.
  await db.raw('SELECT pg_stat_force_next_flush()');
  const { rows } = await db.raw<{ rows: Array<{ commits: string; fsyncs: string | null; fsync_ms: number | null }> }>(
    `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits,
            (SELECT sum(fsyncs) FROM pg_stat_io WHERE object = 'wal') AS fsyncs,
            (SELECT sum(fsync_time) FROM pg_stat_io WHERE object = 'wal') AS fsync_ms`,
  );
  return counters(Number(rows[0]!.commits), Number(rows[0]!.fsyncs ?? 0), Number(rows[0]!.fsync_ms ?? 0));
}

function counters(commits: number, walFsyncs: number, walFsyncMs: number): PgCounters {
  return { commits, walFsyncs, walFsyncMs, minus: (o) => counters(commits - o.commits, walFsyncs - o.walFsyncs, walFsyncMs - o.walFsyncMs) };
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
