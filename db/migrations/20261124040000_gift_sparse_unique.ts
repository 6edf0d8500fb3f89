import type { Knex } from 'knex';

/**
 * Gifticon codes and link tokens are unique only where they exist. A plain unique index also
 * holds an entry for every NULL: a reservation (no code, no token, no previous token yet) wrote
 * three entries that say nothing, and every rewrite of a sent gift at 00:00 one more for its
 * empty previous token. Partial indexes keep the same guarantee and the same lookups (`= $1`
 * implies NOT NULL) without them.
 */
const COLUMNS = ['code', 'link_token', 'previous_link_token'] as const;

export async function up(knex: Knex): Promise<void> {
  for (const column of COLUMNS) {
    await knex.raw(`ALTER TABLE gifts DROP CONSTRAINT IF EXISTS gifts_${column}_unique`);
    await knex.raw(`CREATE UNIQUE INDEX gifts_${column}_unique ON gifts (${column}) WHERE ${column} IS NOT NULL`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const column of COLUMNS) {
    await knex.raw(`DROP INDEX IF EXISTS gifts_${column}_unique`);
    await knex.raw(`ALTER TABLE gifts ADD CONSTRAINT gifts_${column}_unique UNIQUE (${column})`);
  }
}
