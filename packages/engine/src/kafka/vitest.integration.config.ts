// Vitest config for the Kafka integration test (needs a broker; see client.integration.ts).
//   npx vitest run --config packages/engine/src/kafka/vitest.integration.config.ts
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../../../../', import.meta.url).pathname,
    include: ['packages/engine/src/kafka/**/*.integration.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
