import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { balance, history, InsufficientCreditsError } from '../credits/ledger.ts';
import { cancelGroupOrder, expireGroupOrder } from '../group-orders/close.ts';
import { createGroupOrder } from '../group-orders/create.ts';
import { joinGroupOrder } from '../group-orders/join.ts';
import { groupDeps, groupFixture, type GroupFixture } from './support/group-orders.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

type Command =
  | { op: 'create'; user: number; mode: 'SPLIT' | 'EACH'; item: number; quantity: number }
  | { op: 'join'; group: number; user: number; item: number; quantity: number }
  | { op: 'cancel'; group: number; user: number; byCreator: boolean }
  | { op: 'expire'; group: number };

const USERS = 4;
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('create' as const), user: fc.nat(USERS - 1), mode: fc.constantFrom('SPLIT' as const, 'EACH' as const), item: fc.nat(4), quantity: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ op: fc.constant('join' as const), group: fc.nat(7), user: fc.nat(USERS - 1), item: fc.nat(4), quantity: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ op: fc.constant('cancel' as const), group: fc.nat(7), user: fc.nat(USERS - 1), byCreator: fc.boolean() }),
  fc.record({ op: fc.constant('expire' as const), group: fc.nat(7) }),
);

describe('group-order money (property)', () => {
  let platform: TestPlatform;
  let f: GroupFixture;
  before(async () => {
    platform = await createTestPlatform();
    f = await groupFixture(platform);
  });
  after(() => platform.cleanup());

  it('over random create/join/cancel/expire sequences no won is lost or created', async () => {
    const deps = groupDeps(platform);
    let run = 0;
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 14 }), async (commands) => {
        run++;
        const users = Array.from({ length: USERS }, (_, i) => `p${run}-u${i}`);
        const groups: string[] = [];
        const refused = (err: unknown) => {
          if (err instanceof InsufficientCreditsError) return { kind: 'poor' as const };
          throw err;
        };
        for (const c of commands) {
          const item = (i: number, quantity: number) => [{ menuItemId: f.menu[i % f.menu.length]!.id, quantity }];
          if (c.op === 'create') {
            const created = await createGroupOrder(deps, { creatorId: users[c.user]!, restaurantId: f.restaurant.id, mode: c.mode, items: item(c.item, c.quantity), dropoff: f.dropoff }).catch(refused);
            if (created.kind === 'created') groups.push(created.group.id);
          } else if (groups.length > 0) {
            const id = groups[c.group % groups.length]!;
            if (c.op === 'join') {
              const split = (await platform.db('group_orders').where({ id }).first()).mode === 'SPLIT';
              await joinGroupOrder(deps, { groupOrderId: id, joinerId: users[c.user]!, items: split ? [] : item(c.item, c.quantity) }).catch(refused);
            } else if (c.op === 'cancel') {
              const creator = (await platform.db('group_orders').where({ id }).first()).creator_id;
              await cancelGroupOrder(deps, { groupOrderId: id, userId: c.byCreator ? creator : users[c.user]! });
            } else {
              await platform.db('group_orders').where({ id, status: 'OPEN' }).update({ expires_at: new Date(Date.now() - 1_000) });
              await expireGroupOrder(deps, { groupOrderId: id });
            }
          }
        }

        // Conservation: what users hold plus what matched orders cost is what they were granted.
        const rows = groups.length > 0 ? await platform.db('group_orders').whereIn('id', groups) : [];
        let wallets = 0;
        let granted = 0;
        for (const user of users) {
          const b = await balance(platform.db, user);
          wallets += b.available + b.held;
          const entries = await history(platform.db, user, { limit: 1_000 });
          granted += entries.filter((e) => e.kind === 'grant').reduce((n, e) => n + e.amount, 0);
          const openHolds = rows.filter((g) => g.status === 'OPEN' && g.creator_id === user).reduce((n, g) => n + g.creator_share, 0);
          assert.equal(b.held, openHolds, `${user} holds exactly the shares of their open groups`);
        }
        let spent = 0;
        for (const g of rows.filter((r) => r.status === 'MATCHED')) {
          const order = await platform.db('orders').where({ id: g.order_id }).first();
          assert.equal(g.creator_share + g.joiner_share, order.total, `group ${g.id}: shares = order total`);
          spent += order.total;
        }
        assert.equal(wallets + spent, granted);
        for (const g of rows.filter((r) => r.status === 'CANCELLED')) assert.equal(g.joiner_id, null);
        for (const g of rows) {
          const state = g.status === 'CANCELLED' ? `CANCELLED:${g.cancel_reason}` : g.status;
          seen.set(state, (seen.get(state) ?? 0) + 1);
        }
      }),
      // Seeded, so every run of the suite explores the same 25 sequences and the coverage check
      // below cannot fail by the luck of the draw; FC_SEED=<n> explores others.
      { numRuns: 25, seed: Number(process.env.FC_SEED ?? 20261124) },
    );
    // The runs must have reached every end state, or the property proved little.
    for (const state of ['OPEN', 'MATCHED', 'CANCELLED:creator', 'CANCELLED:expired']) assert.ok(seen.has(state), `${state} never happened: ${JSON.stringify([...seen])}`);
  });
});
