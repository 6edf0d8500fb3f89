import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGroupCommit } from '../runtime/group-commit.ts';

describe('group commit', () => {
  it('sends a lone call at once, joins calls that wait, and never runs more batches than allowed', async () => {
    const batches: number[][] = [];
    let running = 0;
    let most = 0;
    const releases: Array<() => void> = [];
    const commit = createGroupCommit(
      async (inputs: number[]) => {
        batches.push(inputs);
        most = Math.max(most, ++running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return inputs.map((n) => n * 10);
      },
      { maxInFlight: 2, maxSize: 3 },
    );
    const first = commit(1);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(batches, [[1]], 'a lone call goes at the end of its turn');
    const rest = [2, 3, 4, 5, 6, 7, 8].map((n) => commit(n));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(batches, [[1], [2, 3, 4, 5, 6, 7, 8].slice(0, 3)], 'one more batch, of at most maxSize');
    // Each finished batch frees a slot for the calls that waited meanwhile.
    while (batches.flat().length < 8 || releases.length > 0) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await Promise.all([first, ...rest]), [10, 20, 30, 40, 50, 60, 70, 80]);
    assert.deepEqual(batches.flat(), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.ok(batches.every((b) => b.length <= 3));
    assert.equal(most, 2);
  });

  it('with lingerMs, callers arriving while a batch runs wait for company even with a slot free; an idle caller does not wait', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const commit = createGroupCommit(
      async (inputs: number[]) => {
        batches.push(inputs);
        if (inputs[0] === 1) await gate;
        return inputs;
      },
      { maxInFlight: 2, lingerMs: 200 },
    );
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const first = commit(1);
    await turn();
    assert.deepEqual(batches, [[1]], 'nothing ran: the first caller went at the end of its turn');
    const later = [commit(2)];
    await turn();
    later.push(commit(3));
    await turn();
    later.push(commit(4));
    await turn();
    assert.deepEqual(batches, [[1]], 'a slot is free, yet the callers wait for company');
    assert.deepEqual(await Promise.all(later), [2, 3, 4]);
    assert.deepEqual(batches, [[1], [2, 3, 4]], 'three turns, one batch');
    release();
    await first;
    await turn();
    const lone = commit(5);
    await turn();
    assert.deepEqual(batches.at(-1), [5], 'idle again: a lone caller goes at the end of its turn');
    await lone;
  });

  it('fails every call of a failed batch, and the next batch still runs', async () => {
    let fail = true;
    const commit = createGroupCommit(async (inputs: string[]) => {
      if (fail) throw new Error('down');
      return inputs.map((s) => s.toUpperCase());
    });
    const failed = await Promise.allSettled([commit('a'), commit('b')]);
    assert.deepEqual(failed.map((r) => r.status), ['rejected', 'rejected']);
    fail = false;
    assert.equal(await commit('c'), 'C');
  });
  it('tells onBatch the size and timings of each batch, and an onBatch that throws stalls nothing', async () => {
    const seen: Array<{ size: number; waitedMs: number; tookMs: number }> = [];
    let calls = 0;
    const commit = createGroupCommit(async (inputs: number[]) => inputs.map((n) => n + 1), {
      maxInFlight: 1,
      onBatch: (b) => {
        seen.push(b);
        if (++calls === 1) throw new Error('metrics are down');
      },
    });
    assert.deepEqual(await Promise.all([commit(1), commit(2), commit(3)]), [2, 3, 4]);
    assert.equal(await commit(4), 5, 'the batch after a throwing onBatch still runs');
    // onBatch runs once the batch has settled, after its callers were answered.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen.map((b) => b.size), [3, 1]);
    assert.ok(seen.every((b) => b.waitedMs >= 0 && b.tookMs >= 0));
  });
});
