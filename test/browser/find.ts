import { findChromium, INSTALL_BROWSER } from './chromium.ts';

// `npx tsx test/browser/find.ts`: prints the Chromium the browser tests will drive, or exits 1
// saying what was looked for (.ci/run installs one then).
const found = findChromium();
if (found.path === null) {
  console.error(`no Chromium for the browser tests: ${found.reason}; install one with \`${INSTALL_BROWSER}\``);
  process.exit(1);
}
console.log(`${found.path} (${found.source})`);
