/**
 * `npm run bench:capacity`: regenerates docs/capacity.md and the summary table of
 * docs/benchmarks.md from the figures already recorded in .data/bench-results/ (without running
 * any benchmark), each bench's latest figure dated in the table: after running one bench on its
 * own, this brings both documents up to date. `npm run bench` does the same at its end.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeCapacityDoc } from './support/capacity-doc.ts';
import { latestResults, replaceBetweenMarkers, summaryMarkdown } from './support/results.ts';
import { loadAllResults, machineFacts, ROOT } from './support/results-store.ts';

const results = latestResults(await loadAllResults());
const ctx = { machine: machineFacts(), date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', command: 'npm run bench:capacity' };
await writeCapacityDoc(results, ctx);
const docPath = path.join(ROOT, 'docs', 'benchmarks.md');
await fs.writeFile(docPath, replaceBetweenMarkers(await fs.readFile(docPath, 'utf8'), 'bench:summary', summaryMarkdown(results, { ...ctx, outcomes: [] })));
console.log(`wrote docs/capacity.md and the summary of docs/benchmarks.md from ${results.length} recorded figures`);
