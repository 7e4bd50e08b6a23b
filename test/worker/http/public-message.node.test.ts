// Pure string work, run in Node: workerd's clock stands still while code runs, so the bound on
// the work below could not be seen there.
import { describe, expect, it } from 'vitest';
import { publicMessage, quoted } from '../../../worker/errors.ts';

describe('publicMessage', () => {
  const long = 'y'.repeat(600);
  it.each([
    ['a stack trace', 'bad input\n    at f (/work/main/worker/x.ts:1:2)', 'bad input'],
    ['a file URL', 'failed in file:///work/main/worker/x.js', 'failed in [internal]'],
    ['a source path with its line', 'thrown at /work/main/worker/x.ts:12:3 today', 'thrown at [internal] today'],
    ['a node_modules path', 'from (/srv/node_modules/hono/dist/x.js) here', 'from [internal] here'],
    ['a request path, kept', 'no file /console/app.js', 'no file /console/app.js'],
    ['an empty message', '', 'request refused'],
    ['a long line', long, `${'y'.repeat(497)}...`],
    // A source path the length bound splits has lost its line number: it must not show.
    ['a path split by the bound', `${'a '.repeat(999)}/work/main/worker/deep/file.ts:1:2`, `${'a '.repeat(248)}a...`],
  ])('%s', (_, message, shown) => {
    expect(publicMessage(message)).toBe(shown);
  });

  // The patterns once ran over the whole line and backtracked quadratically: a 100 000-character
  // device name held the Worker's isolate for 23 s. Now each case takes about a millisecond; the
  // bound leaves a margin of 100 times for a slow machine; the old code took 18 s on the first and over 2 minutes on each of the others.
  it.each([
    ['one 100 000-character word', 'x'.repeat(100_000)],
    ['a 200 000-character run of path segments', '/x'.repeat(100_000)],
    ['a word that nearly names node_modules, 100 000 times', 'node_module'.repeat(100_000)],
  ])('bounds its work on %s', (_, message) => {
    const started = performance.now();
    const shown = publicMessage(message);
    expect(performance.now() - started).toBeLessThan(100);
    expect(shown.length).toBeLessThanOrEqual(500);
  });
});

describe('quoted', () => {
  it.each([
    ['lab-1', '"lab-1"'],
    ['z'.repeat(80), `"${'z'.repeat(80)}"`],
    ['z'.repeat(81), `"${'z'.repeat(80)}…" (81 characters)`],
  ])('%s', (value, shown) => {
    expect(quoted(value)).toBe(shown);
  });
});
