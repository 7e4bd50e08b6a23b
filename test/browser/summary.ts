import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/lib/wrangler-cli.ts';
import { browserRequired, findChromium, INSTALL_BROWSER } from './chromium.ts';
import { browserRecordDir, type BrowserRunRecord } from './skip-reporter.ts';

// The last step of `npm test`: a green run that skipped the browser tests says so, last.
const dir = browserRecordDir(ROOT);
const records = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as BrowserRunRecord) : [];
const ran = records.reduce((n, r) => n + r.ran, 0);
const skipped = records.flatMap((r) => r.skipped);
const found = findChromium();

if (!skipped.length) {
  console.log(`browser tests: ${ran} ran${found.path ? ` in ${found.path} (${found.source})` : ''}`);
} else {
  console.log(`browser tests: ${skipped.length} skipped, ${ran} ran (${found.path !== null ? `a browser is there now: ${found.path}` : found.reason}):`);
  for (const file of new Set(skipped.map((s) => s.file))) {
    console.log(`  ${file}`);
    for (const s of skipped.filter((t) => t.file === file)) console.log(`    - ${s.name}`);
  }
  console.log(`install a browser with \`${INSTALL_BROWSER}\` (or Debian's \`apt-get install chromium\`, or set CELLSENSE_CHROMIUM=/path/to/chrome), then run npm test again`);
}
// CI runs with CELLSENSE_REQUIRE_BROWSER=1: there a skipped browser test fails the run.
if (skipped.length && browserRequired()) process.exit(1);
