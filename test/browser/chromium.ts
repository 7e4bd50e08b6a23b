import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join, relative, sep } from 'node:path';
import { chromium } from 'playwright-core';

/** The one command that gets the browser tests a Chromium, on any machine with internet. */
export const INSTALL_BROWSER = 'npx playwright-core install chromium';

/** Where the browser tests found a Chromium, or why they found none. */
export type ChromiumLookup = { path: string; source: string } | { path: null; reason: string };

/** Names the system's Chromium goes by on PATH, most likely first. */
const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds in Playwright's browser cache: first the revision this playwright-core expects (what
 * `npx playwright-core install chromium` puts there), then any other `chromium-*` revision that a
 * user's own Playwright installed, newest first.
 */
function playwrightBuilds(): string[] {
  let expected: string;
  try {
    expected = chromium.executablePath();
  } catch {
    return [];
  }
  const revisionDir = expected.split(sep).findLast((part) => /^chromium-\d+$/.test(part));
  if (!revisionDir) return [expected];
  const cache = expected.slice(0, expected.lastIndexOf(`${sep}${revisionDir}${sep}`));
  const inside = relative(join(cache, revisionDir), expected);
  let others: string[] = [];
  try {
    others = readdirSync(cache)
      .filter((name) => /^chromium-\d+$/.test(name) && name !== revisionDir)
      .sort((a, b) => Number(b.split('-')[1]) - Number(a.split('-')[1]))
      .map((name) => join(cache, name, inside));
  } catch {
    // No cache folder yet: nothing was ever installed there.
  }
  return [expected, ...others];
}

function onPath(pathVariable: string | undefined): string[] {
  const dirs = (pathVariable ?? '').split(delimiter).filter(Boolean);
  return SYSTEM_NAMES.flatMap((name) => dirs.map((dir) => join(dir, name)));
}

/**
 * Finds a Chromium the way Playwright users expect: `CELLSENSE_CHROMIUM` (a path, or `none` to
 * run as if there were no browser), Playwright's own browser cache, then the system's `chromium`
 * on PATH (Debian's package installs /usr/bin/chromium).
 *
 * @example
 * const found = findChromium();
 * if (found.path) await chromium.launch({ executablePath: found.path });
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): ChromiumLookup {
  const chosen = env.CELLSENSE_CHROMIUM;
  if (chosen === 'none') return { path: null, reason: 'CELLSENSE_CHROMIUM=none' };
  if (chosen) {
    return executable(chosen)
      ? { path: chosen, source: 'CELLSENSE_CHROMIUM' }
      : { path: null, reason: `CELLSENSE_CHROMIUM=${chosen} is not an executable file` };
  }
  const cached = playwrightBuilds().find(executable);
  if (cached) return { path: cached, source: "Playwright's browser cache" };
  const system = onPath(env.PATH).find(executable);
  if (system) return { path: system, source: `${SYSTEM_NAMES.find((n) => system.endsWith(`${sep}${n}`))} on PATH` };
  return { path: null, reason: `no Chromium in Playwright's browser cache, nor ${SYSTEM_NAMES.join(', ')} on PATH` };
}

/** Set by CI: a browser test that cannot find its browser fails instead of skipping. */
export const browserRequired = (env: NodeJS.ProcessEnv = process.env) => env.CELLSENSE_REQUIRE_BROWSER === '1';

/**
 * What a browser test file needs: the Chromium to launch, and whether to skip (no browser, and
 * none required). Where a browser is required but missing, `path` is null and `skip` false: the
 * file's setup throws `missing`, so the run fails naming what was looked for.
 */
export function browserForTests(env: NodeJS.ProcessEnv = process.env) {
  const found = findChromium(env);
  const missing = found.path !== null ? '' : `no browser for the browser tests: ${found.reason}; install one with \`${INSTALL_BROWSER}\` or set CELLSENSE_CHROMIUM`;
  return { path: found.path, skip: !found.path && !browserRequired(env), missing };
}
