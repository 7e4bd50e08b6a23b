import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { BROWSER_TAG } from '../browser/tag.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

// The lab console in a real browser (a Chromium driven by playwright-core, found as
// test/browser/chromium.ts says) against a real `wrangler dev`. Skipped where there is none.
// Run: `npx vitest run --config test/console/vitest.config.ts`; screenshots land in tmp/console-e2e/.
export default defineConfig({
  root,
  test: {
    name: 'console-e2e',
    root,
    include: ['test/console/**/*.e2e.ts'],
    tags: [BROWSER_TAG],
    reporters: ['default', './test/browser/skip-reporter.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 240_000,
  },
});
