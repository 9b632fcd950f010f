// The outage phase: `*.outage.ts` tests stop and start real servers (private instances on their
// own ports, never the shared ones) for 60 s each. They mostly wait, so all four run at once and
// the phase takes about as long as the slowest (~3-4 min, OpenSearch's restart dominating).
//   npx vitest run --config packages/engine/src/sinks/vitest.outage.config.ts
// (Kept under packages/ so tsconfig and eslint cover it without changes; it may move to the
// repo root once tsconfig.json includes it there.)
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../../../../', import.meta.url).pathname,
    include: ['packages/**/*.outage.ts'],
    reporters: ['default', './tests/summary-reporter.ts'],
    // One worker per file, all at once: the time is spent waiting for servers, not on CPU.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 4,
    minWorkers: 1,
    testTimeout: 420_000,
    hookTimeout: 300_000,
  },
});
