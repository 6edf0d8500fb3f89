import type { Knex } from 'knex';
import type { Role } from '../domain/roles.ts';

export interface UserRow {
  id: string;
  role: Role;
}

/**
 * Records a user the first time their token is seen and returns the role on record.
 * The role never changes silently: a caller compares it with the token's role.
 */
export async function ensureUser(db: Knex, id: string, role: Role): Promise<UserRow> {
  const rows = await db.raw<{ rows: UserRow[] }>(
    `INSERT INTO users (id, role) VALUES (?, ?)
     ON CONFLICT (id) DO UPDATE SET last_seen_at = now()
     RETURNING id, role`,
    [id, role],
  );
  return rows.rows[0]!;
}
