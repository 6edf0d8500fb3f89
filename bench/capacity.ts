/**
 * `npm run bench:capacity`: regenerates docs/capacity.md from the figures already recorded in
 * .data/bench-results/ (without running any benchmark). `npm run bench` does this at its end.
 */
import { writeCapacityDoc } from './support/capacity-doc.ts';
import { latestResults } from './support/results.ts';
import { loadAllResults, machineFacts } from './support/results-store.ts';

const results = latestResults(await loadAllResults());
await writeCapacityDoc(results, { machine: machineFacts(), date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', command: 'npm run bench:capacity' });
console.log(`wrote docs/capacity.md from ${results.length} recorded figures`);
