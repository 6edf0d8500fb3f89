import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keptArray, preparedQuery } from '../db/prepared.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

describe('prepared queries', () => {
  let p: TestPlatform;
  before(async () => {
    p = await createTestPlatform();
    await p.db.raw('CREATE TABLE prepared_probe (n int PRIMARY KEY, label text)');
  });
  after(() => p.cleanup());

  const insert = 'INSERT INTO prepared_probe (n, label) SELECT n, $2 FROM unnest($1::int[]) AS n ON CONFLICT (n) DO NOTHING RETURNING n, label';

  it("runs on the pool's connections in the test's own schema, again and again with new values", async () => {
    for (let round = 0; round < 8; round++) {
      const rows = await preparedQuery<{ n: number; label: string }>(p.db, 'test.prepared-probe', insert, [[round * 2, round * 2 + 1], `r${round}`]);
      assert.deepEqual(rows.map((r) => r.n).sort((a, b) => a - b), [round * 2, round * 2 + 1]);
    }
    // Concurrent callers share the pool; each statement sees its own values.
    const many = await Promise.all(Array.from({ length: 12 }, (_, i) => preparedQuery<{ n: number }>(p.db, 'test.prepared-probe', insert, [[100 + i], 'c'])));
    assert.deepEqual(many.map((rows) => rows.map((r) => r.n)), Array.from({ length: 12 }, (_, i) => [100 + i]));
    assert.equal(Number((await p.db('prepared_probe').count('* as n'))[0]!.n), 28);
    const { rows } = await p.db.raw('SELECT current_schema() AS s');
    assert.equal(rows[0].s, p.schema);
  });

  it('after a migration adds a column to a table a kept statement returns whole, prepares it anew and answers with the new shape', async () => {
    await p.db.raw("CREATE TABLE shape_probe (n int PRIMARY KEY, label text); INSERT INTO shape_probe VALUES (1, 'one')");
    const read = () => preparedQuery<Record<string, unknown>>(p.db, 'test.shape-probe', 'SELECT * FROM shape_probe WHERE n = $1', [1]);
    // Every connection of the pool prepares it (more callers at once than connections).
    const before = await Promise.all(Array.from({ length: 24 }, read));
    assert.ok(before.every((rows) => rows.length === 1 && !('extra' in rows[0]!)));
    await p.db.raw("ALTER TABLE shape_probe ADD COLUMN extra text NOT NULL DEFAULT 'added'");
    // Postgres refuses each connection's kept statement once ("cached plan must not change result type").
    const after = await Promise.all(Array.from({ length: 24 }, read));
    assert.deepEqual(after.map((rows) => rows[0]), Array.from({ length: 24 }, () => ({ n: 1, label: 'one', extra: 'added' })));
    assert.deepEqual((await read())[0], { n: 1, label: 'one', extra: 'added' }, 'and goes on answering');
  });

  it('inside a transaction runs on its connection, and a rollback undoes it', async () => {
    await assert.rejects(
      p.db.transaction(async (trx) => {
        const rows = await preparedQuery<{ n: number }>(trx, 'test.prepared-probe', insert, [[500, 501], 't']);
        assert.deepEqual(rows.map((r) => r.n).sort((a, b) => a - b), [500, 501]);
        assert.equal(Number((await trx('prepared_probe').where('n', '>=', 500).count('* as n'))[0]!.n), 2);
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(Number((await p.db('prepared_probe').where('n', '>=', 500).count('* as n'))[0]!.n), 0);
  });

  it('keeps one generic plan for a statement whose arrays are read through keptArray, whatever their lengths', async () => {
    const pool = p.db.client as { acquireConnection(): Promise<import('pg').Client>; releaseConnection(c: unknown): Promise<void> };
    const connection = await pool.acquireConnection();
    try {
      const text = `SELECT p.n, p.label FROM unnest(${keptArray(1, 'int')}) AS i(n) JOIN prepared_probe p ON p.n = i.n ORDER BY p.n`;
      for (let round = 0; round < 8; round++) {
        const wanted = Array.from({ length: 1 + (round % 3) }, (_, k) => round * 2 + k);
        const { rows } = await connection.query({ name: 'test.kept-array', text, values: [wanted] });
        assert.deepEqual(rows.map((r) => r.n), wanted.filter((n) => n < 16));
      }
      const { rows } = await connection.query(`SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = 'test.kept-array'`);
      // Postgres plans the first five calls for their values, then keeps the generic plan.
      assert.ok(rows[0].generic >= 3, `generic plans: ${JSON.stringify(rows[0])}`);
    } finally {
      await pool.releaseConnection(connection);
    }
  });
});
