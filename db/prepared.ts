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
    return (await connection.query<R & pg.QueryResultRow>({ name, text, values: values as unknown[] })).rows;
  } finally {
    await pool.releaseConnection(connection);
  }
}
