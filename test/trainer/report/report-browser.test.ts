import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../../trainer/report/render-report.ts';
import { browserForTests } from '../../browser/chromium.ts';
import { openPage, type BrowserPage } from './report-browser-cdp.ts';
import { buildReportFixture, NUCLEUS_RGB } from './report-fixture.ts';

const browser = browserForTests();

/** A laptop-sized window; screenshots take the whole page's height whatever it is. */
const WINDOW = { width: 1280, height: 900 };
/** Set to a folder to keep the screenshots for a person to look at. */
const KEEP_SHOTS = process.env.CELLSENSE_REPORT_SHOTS;
const SECTIONS = ['summary', 'curves', 'confusion', 'per-class', 'quantization', 'calibration', 'doubt', 'cross-validation', 'dataset', 'mistakes'];

interface Box { x: number; y: number; width: number; height: number }

let dir = '';

/** Runs headless Chromium on a file with a fresh profile; no network, no first-run work. */
function chromium(args: string[], file: string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(
    browser.path!,
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

/** Pixels within `tolerance` (per channel) of `rgb`, in the whole PNG or the part `box` covers. */
async function countPixels(png: string, rgb: number[], tolerance: number, box?: Box): Promise<number> {
  const image = sharp(png);
  if (box) image.extract({ left: Math.round(box.x), top: Math.round(box.y), width: Math.round(box.width), height: Math.round(box.height) });
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let n = 0;
  for (let i = 0; i < info.width * info.height * 3; i += 3) {
    if (Math.abs(data[i] - rgb[0]) <= tolerance && Math.abs(data[i + 1] - rgb[1]) <= tolerance && Math.abs(data[i + 2] - rgb[2]) <= tolerance) n++;
  }
  return n;
}

describe.skipIf(browser.skip)('report.html in headless Chromium', { tags: ['browser'] }, () => {
  let data: Awaited<ReturnType<typeof buildReportFixture>>;
  let reportFile = '';
  let page: BrowserPage | undefined;
  let shot = '';

  beforeAll(async () => {
    if (!browser.path) throw new Error(browser.missing);
    dir = await mkdtemp(path.join(os.tmpdir(), 'cellsense-report-'));
    data = await buildReportFixture({ calibration: 'met', crossValidation: true });
    reportFile = path.join(dir, 'report.html');
    await writeFile(reportFile, renderReport(data));
    page = await openPage(reportFile, { chromium: browser.path, profileDir: path.join(dir, 'profile-cdp'), ...WINDOW });
    const height = await page.evaluate<number>('document.documentElement.scrollHeight');
    shot = path.join(dir, 'report.png');
    await page.screenshot(shot, { x: 0, y: 0, width: WINDOW.width, height });
    if (KEEP_SHOTS) {
      await mkdir(KEEP_SHOTS, { recursive: true });
      await copyFile(shot, path.join(KEEP_SHOTS, 'report.png'));
    }
  }, 120_000);
  afterAll(async () => {
    await page?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('parses into a DOM with every section, the SVG charts and the thumbnails', () => {
    const { stdout, status } = chromium(['--dump-dom'], reportFile);
    expect(status).toBe(0);
    expect(stdout).toContain('<title>Training report: blood-cells 2025-06-03.1</title>');
    for (const id of SECTIONS) expect(stdout, id).toContain(`id="${id}"`);
    // Loss and accuracy curves, two reliability diagrams, the accuracy-coverage curve.
    expect((stdout.match(/<svg class="chart"/g) ?? []).length).toBe(5);
    expect((stdout.match(/<svg class="heatmap"/g) ?? []).length).toBe(1);
    expect((stdout.match(/<path d="M/g) ?? []).length).toBe(4);
    expect((stdout.match(/<path class="coverage-curve" d="M/g) ?? []).length).toBe(1);
    expect((stdout.match(/<img src="data:image\/png;base64,/g) ?? []).length).toBe(data.mistakes.length);
  });

  it('draws charts, heat map and thumbnails on screen', async () => {
    const meta = await sharp(shot).metadata();
    expect(meta.width).toBe(WINDOW.width);
    // Every section is inside the screenshot: its height is the page's.
    expect(meta.height).toBeGreaterThan(5_000);
    // Each colour appears only if its part was drawn: validation lines (orange), the
    // darkest heat-map cells (navy), and the nuclei in the decoded thumbnails (purple).
    expect(await countPixels(shot, [234, 88, 12], 12)).toBeGreaterThan(500);
    expect(await countPixels(shot, [33, 66, 160], 20)).toBeGreaterThan(5_000);
    expect(await countPixels(shot, NUCLEUS_RGB, 14)).toBeGreaterThan(data.mistakes.length * 300);
    // A real page, not a blank one: plenty of dark text pixels.
    expect(await countPixels(shot, [15, 23, 42], 30)).toBeGreaterThan(10_000);
  });

  it('lays out the calibration, doubt and cross-validation figures at a readable size', async () => {
    const boxes = await page!.evaluate<Record<string, Box[]>>(`Object.fromEntries(
      ['#calibration svg.chart', '#doubt svg.chart', '#cross-validation table', '#summary .card'].map((q) => [q,
        [...document.querySelectorAll(q)].map((e) => { const r = e.getBoundingClientRect(); return { x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height }; })]))`);
    const [before, after] = boxes['#calibration svg.chart'];
    const [coverage] = boxes['#doubt svg.chart'];
    expect(boxes['#calibration svg.chart']).toHaveLength(2);
    expect(boxes['#doubt svg.chart']).toHaveLength(1);
    for (const b of [before, after, coverage]) {
      expect(b.width).toBeGreaterThan(400);
      expect(b.height).toBeGreaterThan(280);
      expect(b.x + b.width).toBeLessThanOrEqual(WINDOW.width);
    }
    // The two reliability diagrams sit side by side, one row, at the same size.
    expect(Math.abs(before.y - after.y)).toBeLessThan(1);
    expect(after.x).toBeGreaterThan(before.x + before.width);
    expect(boxes['#cross-validation table']).toHaveLength(2);
    expect(boxes['#summary .card']).toHaveLength(5);
    for (const t of boxes['#cross-validation table']) expect(t.height).toBeGreaterThan(100);

    // The bars and the curve were painted, where the layout says the charts are.
    expect(await countPixels(shot, [148, 163, 184], 4, before)).toBeGreaterThan(2_000);
    expect(await countPixels(shot, [37, 99, 235], 4, after)).toBeGreaterThan(2_000);
    expect(await countPixels(shot, [15, 118, 110], 24, coverage)).toBeGreaterThan(500);
    expect(await countPixels(shot, [227, 253, 236], 6, coverage)).toBeGreaterThan(2_000);
    if (KEEP_SHOTS) {
      for (const [name, box] of Object.entries({ before, after, coverage })) {
        const pad = 12;
        await sharp(shot)
          .extract({ left: Math.round(box.x - pad), top: Math.round(box.y - pad), width: Math.round(box.width + 2 * pad), height: Math.round(box.height + 2 * pad) })
          .toFile(path.join(KEEP_SHOTS, `chart-${name}.png`));
      }
    }
  });

  it('keeps hostile class names and paths as text in the browser', async () => {
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
