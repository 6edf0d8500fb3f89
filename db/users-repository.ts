import type { Knex } from 'knex';
import type { Role } from '../domain/roles.ts';

export interface UserRow {
  id: string;
  role: Role;
}

/**
 * Records users the first time their tokens are seen and returns the roles on record; the role
 * never changes silently: a caller compares it with the token's role. Many first sightings in one
 * statement (a hot spot's riders answering their first offers arrive by the hundred a second):
 * per identity, in order, the user as on record.
 * One row per id in the statement (an upsert may not touch a row twice); the first identity of an
 * id decides the role of a new user, as it would have one after the other.
 */
export async function ensureUsers(db: Knex, identities: ReadonlyArray<{ id: string; role: Role }>): Promise<UserRow[]> {
  const first = new Map<string, Role>();
  for (const u of identities) if (!first.has(u.id)) first.set(u.id, u.role);
  const { rows } = await db.raw<{ rows: UserRow[] }>(
    `INSERT INTO users (id, role) SELECT * FROM unnest(?::text[], ?::text[])
     ON CONFLICT (id) DO UPDATE SET last_seen_at = now()
     RETURNING id, role`,
    [[...first.keys()], [...first.values()]] as unknown as Knex.RawBinding[],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return identities.map((u) => byId.get(u.id)!);
}
