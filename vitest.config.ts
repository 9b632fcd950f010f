import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // *.integration.ts talk to real services that they start through scripts/services (Kafka, …).
    include: ['packages/**/*.test.ts', 'packages/**/*.integration.ts', 'tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './tests/summary-reporter.ts'],
  },
});
