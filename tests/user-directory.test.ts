import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createUserDirectory } from '../api/user-directory.ts';
import { ensureUsers } from '../db/users-repository.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

describe('users recorded on first sight', () => {
  let p: TestPlatform;
  before(async () => {
    p = await createTestPlatform();
  });
  after(() => p.cleanup());

  it('records many first sightings in one statement; the first identity of an id decides a new role, a recorded role stands', async () => {
    await ensureUsers(p.db, [{ id: 'u-old', role: 'restaurant' }]);
    const rows = await ensureUsers(p.db, [
      { id: 'u-1', role: 'rider' },
      { id: 'u-old', role: 'rider' },
      { id: 'u-1', role: 'customer' },
      { id: 'u-2', role: 'customer' },
    ]);
    assert.deepEqual(rows.map((r) => [r.id, r.role]), [['u-1', 'rider'], ['u-old', 'restaurant'], ['u-1', 'rider'], ['u-2', 'customer']]);
    const stored = await p.db('users').whereIn('id', ['u-1', 'u-2', 'u-old']).orderBy('id').select('id', 'role');
    assert.deepEqual(stored.map((r) => [r.id, r.role]), [['u-1', 'rider'], ['u-2', 'customer'], ['u-old', 'restaurant']]);
  });

  it('concurrent first sightings through the directory: one row per user, each caller told the role on record', async () => {
    const users = createUserDirectory(p.db);
    const seen = await Promise.all(Array.from({ length: 60 }, (_, i) => users.ensure({ sub: `d-${i % 20}`, role: i % 20 === 3 && i >= 20 ? 'customer' : 'rider' })));
    assert.ok(seen.every((role) => role === 'rider'));
    assert.equal(Number((await p.db('users').where('id', 'like', 'd-%').count('* as n'))[0]!.n), 20);
    assert.equal(users.known('d-3'), 'rider');
  });
});
