import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, sample, tempDir, type CliResult } from '../cli-helpers.ts';

describe('npm run groups', () => {
  let dir: string;
  let json: CliResult;

  beforeAll(async () => {
    dir = await tempDir('cellsense-groups-');
    json = cli(['groups', '--data', sample, '--json', '--sheet', path.join(dir, 'groups.html'), '--cache-dir', path.join(dir, 'cache')]);
    if (json.status !== 0) throw new Error(`groups failed: ${json.stderr}`);
  });

  it('prints one JSON object: the method and, per class, the groups and their sizes', () => {
    const summary = JSON.parse(json.stdout);
    expect(Object.keys(summary).sort()).toEqual(['classes', 'method', 'threshold']);
    expect(summary.method).toMatch(/^content/);
    expect(summary.threshold).toBe(0.9);
    // The sample is 8 source photos per class, 6 copies each (data/sample/sources.csv).
    for (const name of ['EOSINOPHIL', 'LYMPHOCYTE', 'MONOCYTE', 'NEUTROPHIL']) {
      expect(summary.classes[name]).toEqual({ images: 48, groups: 8, sizes: [6, 6, 6, 6, 6, 6, 6, 6] });
    }
  });

  it('writes a contact sheet with a row per group and the closest pairs left apart', async () => {
    const page = await readFile(path.join(dir, 'groups.html'), 'utf8');
    expect(page.match(/class="group"/g)).toHaveLength(32);
    expect(page.match(/class="pair"/g)?.length).toBeGreaterThanOrEqual(4);
    expect(page.match(/<img src="data:image\/jpeg;base64,/g)?.length).toBeGreaterThanOrEqual(32 * 6);
  });

  it('prints a table without --json, from the cached grouping', () => {
    const r = cli(['groups', '--data', sample, '--cache-dir', path.join(dir, 'cache')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^MONOCYTE\s+48\s+8\s+6 6 6 6 6 6 6 6$/m);
    expect(r.stderr).not.toMatch(/grouping \d+ images/);
  });

  it.each([
    [['--data', '/nonexistent/cells'], /\/nonexistent\/cells/],
    [['--sheet', '/nonexistent/groups.html'], /--sheet .*folder \/nonexistent does not exist/],
    [['--group-threshold', '-1'], /--group-threshold/],
  ])('refuses %j with a message naming it', (args, message) => {
    const r = cli(['groups', ...args]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});
