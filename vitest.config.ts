import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/shared/**/*.test.ts', 'test/trainer/**/*.test.ts', 'test/worker/**/*.node.test.ts'],
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
