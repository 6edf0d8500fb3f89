// Plain JavaScript: node loads test reporters before any TypeScript loader is registered.
/** Ends the run with the plain `N passed, N failed` line that CI reads. Counts tests, not suites. */
export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for await (const event of source) {
    const isTest = event.data?.details?.type !== 'suite';
    if (event.type === 'test:pass' && isTest) {
      if (event.data.skip || event.data.todo) skipped++;
      else passed++;
    } else if (event.type === 'test:fail' && isTest) {
      failed++;
    }
  }
  yield `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
}
