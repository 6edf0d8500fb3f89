import type { Knex } from 'knex';
import { ensureUsers } from '../db/users-repository.ts';
import { createGroupCommit } from '../runtime/group-commit.ts';
import type { Role } from '../domain/roles.ts';
import type { Identity } from '../runtime/tokens.ts';

/**
 * Creates users on first use and remembers who it has seen, so the hot paths (a rider posting
 * locations every few seconds) do not write to Postgres on every request.
 */
export interface UserDirectory {
  /** Returns the role on record for this user, creating the user if new. */
  ensure(identity: Identity): Promise<Role>;
  /** The role on record for a user seen before, without waiting; else undefined. */
  known(sub: string): Role | undefined;
}

export function createUserDirectory(db: Knex, options: { maxCached?: number } = {}): UserDirectory {
  const maxCached = options.maxCached ?? 100_000;
  const known = new Map<string, Role>();
  // First sightings arriving together (a hot spot's riders answering their first offers) share one upsert.
  const record = createGroupCommit((identities: Identity[]) => ensureUsers(db, identities.map((i) => ({ id: i.sub, role: i.role }))), { maxInFlight: 2 });
  return {
    async ensure(identity) {
      const cached = known.get(identity.sub);
      if (cached) return cached;
      const row = await record(identity);
      // Map keeps insertion order, so dropping the first key evicts the oldest entry.
      if (known.size >= maxCached) known.delete(known.keys().next().value!);
      known.set(row.id, row.role);
      return row.role;
    },
    known: (sub) => known.get(sub),
  };
}
