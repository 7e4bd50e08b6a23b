import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../trainer/report/render-report.ts';
import { buildReportFixture, NUCLEUS_RGB } from './report-fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`report-browser.test.ts: skipped, no ${CHROMIUM} (install it with: apt-get install -y chromium)`);
}

/** Tall enough that the whole report, mistakes included, is inside one screenshot. */
const WINDOW = { width: 1280, height: 5200 };

let dir = '';

/** Runs headless Chromium on a file with a fresh profile; no network, no first-run work. */
function chromium(args: string[], file: string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(
    CHROMIUM,
    [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--hide-scrollbars', `--user-data-dir=${path.join(dir, `profile-${Math.random().toString(36).slice(2)}`)}`,
      ...args, `file://${file}`,
    ],
    { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** Pixels within `tolerance` (per channel) of `rgb`. */
async function countPixels(png: string, rgb: number[], tolerance: number): Promise<number> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let n = 0;
  for (let i = 0; i < info.width * info.height * 3; i += 3) {
    if (Math.abs(data[i] - rgb[0]) <= tolerance && Math.abs(data[i + 1] - rgb[1]) <= tolerance && Math.abs(data[i + 2] - rgb[2]) <= tolerance) n++;
  }
  return n;
}

describe('report.html in headless Chromium', () => {
  let data: Awaited<ReturnType<typeof buildReportFixture>>;
  let reportFile = '';

  beforeAll(async () => {
    if (!hasChromium) return;
    dir = await mkdtemp(path.join(os.tmpdir(), 'cellsense-report-'));
    data = await buildReportFixture();
    reportFile = path.join(dir, 'report.html');
    await writeFile(reportFile, renderReport(data));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!hasChromium)('parses into a DOM with every section, the SVG charts and the thumbnails', () => {
    const { stdout, status } = chromium(['--dump-dom'], reportFile);
    expect(status).toBe(0);
    expect(stdout).toContain('<title>Training report: blood-cells 2025-06-03.1</title>');
    for (const id of ['summary', 'curves', 'confusion', 'per-class', 'quantization', 'dataset', 'mistakes']) {
      expect(stdout, id).toContain(`id="${id}"`);
    }
    expect((stdout.match(/<svg class="chart"/g) ?? []).length).toBe(2);
    expect((stdout.match(/<svg class="heatmap"/g) ?? []).length).toBe(1);
    expect((stdout.match(/<path d="M/g) ?? []).length).toBe(4);
    expect((stdout.match(/<img src="data:image\/png;base64,/g) ?? []).length).toBe(data.mistakes.length);
  });

  it.skipIf(!hasChromium)('draws charts, heat map and thumbnails on screen', async () => {
    const shot = path.join(dir, 'report.png');
    chromium([`--screenshot=${shot}`, `--window-size=${WINDOW.width},${WINDOW.height}`], reportFile);
    expect(existsSync(shot)).toBe(true);
    const meta = await sharp(shot).metadata();
    expect([meta.width, meta.height]).toEqual([WINDOW.width, WINDOW.height]);
    // Each colour appears only if its part was drawn: validation lines (orange), the
    // darkest heat-map cells (navy), and the nuclei in the decoded thumbnails (purple).
    expect(await countPixels(shot, [234, 88, 12], 12)).toBeGreaterThan(500);
    expect(await countPixels(shot, [33, 66, 160], 20)).toBeGreaterThan(5_000);
    expect(await countPixels(shot, NUCLEUS_RGB, 14)).toBeGreaterThan(data.mistakes.length * 300);
    // A real page, not a blank one: plenty of dark text pixels.
    expect(await countPixels(shot, [15, 23, 42], 30)).toBeGreaterThan(10_000);
  });

  it.skipIf(!hasChromium)('keeps hostile class names and paths as text in the browser', async () => {
    const evil = await buildReportFixture({
      classes: ['<script>document.title="pwned"</script>', '<img src=x onerror=alert(1)>', 'MONOCYTE', 'NEUTROPHIL'],
    });
    evil.mistakes[0].path = '"><svg onload=alert(2)>.jpeg';
    const file = path.join(dir, 'evil.html');
    await writeFile(file, renderReport(evil));
    const { stdout } = chromium(['--dump-dom'], file);
    expect(stdout).toContain('<title>Training report: blood-cells 2025-06-03.1</title>');
    expect(stdout).not.toMatch(/<script/i);
    expect(stdout).not.toMatch(/<img src="x"|onerror="|onload="/);
    expect(stdout).toContain('&lt;script&gt;document.title="pwned"&lt;/script&gt;');
    expect((stdout.match(/<img /g) ?? []).length).toBe(evil.mistakes.length);
  });
});
