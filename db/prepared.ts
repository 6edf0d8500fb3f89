import type { Knex } from 'knex';
import type pg from 'pg';

/**
 * Runs `text` (with `$1`-style parameters) as a named prepared statement: Postgres parses,
 * analyses and plans it once per connection and then only binds and executes it, where a plain
 * query pays all of that on every call. Worth it for a long statement on a hot path (an order's
 * insert is a dozen lines of CTEs, parsed and planned hundreds of times a second). `name` must
 * name this one text. Given a transaction, it runs on the transaction's connection (knex's
 * transaction client hands out that connection and releases nothing).
 */
export async function preparedQuery<R>(db: Knex, name: string, text: string, values: readonly unknown[]): Promise<R[]> {
  const pool = db.client as { acquireConnection(): Promise<pg.Client>; releaseConnection(connection: pg.Client): Promise<void> };
  const connection = await pool.acquireConnection();
  try {
    const run = () => connection.query<R & pg.QueryResultRow>({ name: keptName(connection, name), text, values: values as unknown[] });
    try {
      return (await run()).rows;
    } catch (err) {
      if (!isStaleShape(err)) throw err;
      // A migration changed a table under this connection's kept statement (a column added to a
      // table it returns `*` of): Postgres refuses that statement for good, so every later call on
      // this connection prepares it anew under a fresh name. Outside a transaction this call is
      // tried once more at once; inside one the transaction is already aborted, so it fails and its
      // caller's retry meets the fresh statement.
      renew(connection, name);
      if (db.isTransaction) throw err;
      return (await run()).rows;
    }
  } finally {
    await pool.releaseConnection(connection);
  }
}

/** Per connection, how many times each statement name was prepared anew (see preparedQuery). */
const renewed = new WeakMap<pg.Client, Map<string, number>>();

function keptName(connection: pg.Client, name: string): string {
  const times = renewed.get(connection)?.get(name);
  return times ? `${name}~${times}` : name;
}

function renew(connection: pg.Client, name: string): void {
  const names = renewed.get(connection) ?? new Map<string, number>();
  names.set(name, (names.get(name) ?? 0) + 1);
  renewed.set(connection, names);
}

/** Postgres's refusal to run a kept plan whose result columns changed since it was prepared. */
function isStaleShape(err: unknown): boolean {
  return (err as { code?: string }).code === '0A000' && /cached plan must not change result type/.test((err as Error).message);
}

/**
 * `$n` as an array parameter of a prepared statement whose plan Postgres should keep. Given
 * `unnest($1::text[])`, the planner of each call sees the array's length and estimates its rows
 * exactly, so the generic plan (estimated at 10 rows) always looks costlier and every call is
 * planned anew: for a statement of many CTEs, planning took longer than running it. Read through
 * a scalar subquery, the array's length is unknown to every plan alike; after its first five
 * calls on a connection Postgres then keeps the generic plan (index lookups per element, as the
 * custom ones) and only binds and runs it.
 */
export function keptArray(n: number, type: string): string {
  return `(SELECT $${n}::${type}[])`;
}
