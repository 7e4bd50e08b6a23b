import { defineConfig } from 'vitest/config';
import { BROWSER_TAG } from './test/browser/tag.ts';

export default defineConfig({
  test: {
    tags: [BROWSER_TAG],
    // The default report, plus a record of the browser tests skipped, for npm test's last lines.
    reporters: ['default', './test/browser/skip-reporter.ts'],
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/shared/**/*.test.ts', 'test/trainer/**/*.test.ts', 'test/worker/**/*.node.test.ts', 'test/bench/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Training tests are CPU-bound: two at once saturate this 2-core machine.
          maxWorkers: 2,
        },
      },
    ],
  },
});
