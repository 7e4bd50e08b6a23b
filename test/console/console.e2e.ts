import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percent, score } from '../../trainer/report/format.ts';
import { defaultModelDir, readModelFolder } from '../../trainer/export/model-folder.ts';
import { renamedVersion, seedLocalState, startDevServer, type DevServer } from '../../scripts/lib/dev-server.ts';
import { sampleImage } from '../../scripts/lib/local-setup.ts';
import { browserForTests } from '../browser/chromium.ts';
import { apiClient, ARTEFACTS, openView, pageWeight, shoot, signIn, widerThanPage } from './harness.ts';

// The lab console in a real browser (a Chromium through playwright-core) against a real
// `wrangler dev` on a throwaway persisted state holding two published versions.
const chromiumFor = browserForTests();

/** Ten JPEG frames unlike the training photos: blank and single-colour 320x240 frames, and grayscale copies of a sample. */
async function unlikeFrames(): Promise<Uint8Array[]> {
  const frame = (background: string) => sharp({ create: { width: 320, height: 240, channels: 3, background } }).jpeg().toBuffer();
  const grayscale = () => sharp(sampleImage()).grayscale().toColourspace('srgb').jpeg().toBuffer();
  const frames = await Promise.all(['#ffffff', '#000000', '#808080', '#8060a0'].flatMap((c) => [frame(c), frame(c)]).concat([grayscale(), grayscale()]));
  return frames.map((b) => new Uint8Array(b));
}

describe.skipIf(chromiumFor.skip)('lab console in chromium', { tags: ['browser'] }, () => {
  let state: string;
  let dev: DevServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let api: ReturnType<typeof apiClient>;
  let tokens: { admin: string; devices: string[] };
  let base: Awaited<ReturnType<typeof readModelFolder>>;
  let versions: [string, string];
  const urls: string[] = [];

  beforeAll(async () => {
    if (!chromiumFor.path) throw new Error(chromiumFor.missing);
    state = mkdtempSync(join(tmpdir(), 'cellsense-console-'));
    base = await readModelFolder(defaultModelDir());
    versions = [base.manifest.version, `${base.manifest.version}-b`];
    tokens = await seedLocalState(state, [base, renamedVersion(base, versions[1])], 1);
    dev = await startDevServer({ persistTo: state });
    api = apiClient(dev.url);
    browser = await chromium.launch({ executablePath: chromiumFor.path });
    context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: dev.url });
    context.on('request', (request) => urls.push(request.url()));
    page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  it('serves the page with a strict CSP, from the printed URL', async () => {
    // 'domcontentloaded', not 'load': on a stalled 2-core VM the load event once took over 30 s
    // to come, and every step below waits for the elements it needs anyway.
    const res = await page.goto(`${dev.url}/console`, { waitUntil: 'domcontentloaded' });
    expect(page.url()).toBe(`${dev.url}/console/`);
    const csp = res!.headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    await shoot(page, '0-sign-in');
  });

  it('refuses a device token: the API answers 403 and the page says so', async () => {
    await signIn(page, tokens.devices[0]);
    const error = page.locator('#sign-in-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/^Not allowed: the API answered 403 \(.+\)\. This is a device token: it can classify images but cannot open the console\./);
    expect(await page.evaluate(() => sessionStorage.length + localStorage.length)).toBe(0);
    expect(await page.getByRole('navigation', { name: 'Views' }).isVisible()).toBe(false);
    expect((await api(tokens.devices[0], 'GET', '/v1/routing')).status).toBe(403);
    await shoot(page, '1-device-token-refused');
  });

  it('signs in with the admin token (keyboard only) and shows each version with its metrics', async () => {
    // After a refusal the token field has focus again: type and press Enter.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token');
    await page.keyboard.type(tokens.admin);
    await page.keyboard.press('Enter');
    const card = page.locator(`article.model[data-version="${versions[0]}"]`);
    await card.waitFor();
    const text = (await card.textContent())!;
    const validation = (base.manifest.metrics as any).validation;
    expect(text).toContain('Verified');
    expect(text).toContain(base.manifest.classes.join(', '));
    expect(text).toContain(`${base.manifest.input.width} × ${base.manifest.input.height} px`);
    // Written as the training report writes them: accuracy a percentage, macro-F1 a score.
    expect(text).toContain(percent(validation.accuracy));
    expect(text).toContain(`Macro-F1${score(validation.macroF1)}`);
    expect(await page.locator('article.model').count()).toBe(2);
    // Kept for this tab only, and never sent in a URL.
    expect(await page.evaluate(() => [sessionStorage.getItem('cellsense.adminToken'), localStorage.length])).toEqual([tokens.admin, 0]);
    await shoot(page, '2-models');
  });

  it('opens the training report through the admin API, styled, without the token in its URL', async () => {
    const [report] = await Promise.all([
      context.waitForEvent('page'),
      page.locator(`article.model[data-version="${versions[0]}"]`).getByRole('button', { name: /training report/ }).click(),
    ]);
    const violations: string[] = [];
    report.on('console', (message) => void (/Content Security Policy/.test(message.text()) && violations.push(message.text())));
    await report.waitForURL(/^blob:/);
    await report.waitForLoadState();
    expect(await report.title()).toContain('Training report');
    // The report's own inline stylesheet applies (the viewer's policy allows inline style, no script).
    expect(await report.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(245, 247, 250)');
    expect(violations).toEqual([]);
    await shoot(report, '3-report');
    await report.close();
  });

  it('changes the split with the fields, and GET /v1/routing shows it', async () => {
    await openView(page, 'Routing');
    await page.locator(`[id="w-${versions[0]}"]`).fill('70');
    await page.locator(`[id="w-${versions[1]}"]`).fill('30');
    await page.getByLabel('Shadow version').selectOption(versions[1]);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('.message.ok').waitFor();
    const { body } = await api(tokens.admin, 'GET', '/v1/routing');
    expect(body.routing).toMatchObject({ split: { [versions[0]]: 70, [versions[1]]: 30 }, shadow: versions[1] });
    expect(await page.locator('[data-routing-id]').getAttribute('data-routing-id')).toBe(String(body.routing.id));
    await shoot(page, '4-routing');
  });

  it('shows the API refusal of an invalid split, and changes nothing', async () => {
    const before = (await api(tokens.admin, 'GET', '/v1/routing')).body;
    await page.locator(`[id="w-${versions[0]}"]`).fill('60');
    await page.getByRole('button', { name: 'Apply' }).click();
    const error = page.locator('.view .message.error');
    await error.waitFor();
    const text = (await error.textContent())!;
    expect(text).toContain('422 invalid_split');
    expect(text).toContain('the weights sum to 90, not 100');
    expect(text).toContain('Nothing was changed');
    expect((await api(tokens.admin, 'GET', '/v1/routing')).body).toEqual(before);
    await shoot(page, '5-routing-refused');
  });

  it('classifies a real image: label, probabilities, review flag, version, timing; Live counts it within seconds', async () => {
    // A second tab watches the Live view; it must update without reloading.
    const live = await context.newPage();
    await live.goto(`${dev.url}/console/#live`, { waitUntil: 'domcontentloaded' });
    await signIn(live, tokens.admin);
    await live.locator('#live-cards[aria-busy="false"]').waitFor();
    await live.evaluate(() => ((window as any).notReloaded = true));
    const count = async (version: string) => {
      const figure = live.locator(`article.live[data-version="${version}"] [data-figure="requests"]`);
      return (await figure.count()) ? Number(await figure.textContent()) : 0;
    };
    const before = [await count(versions[0]), await count(versions[1])];

    await openView(page, 'Try it');
    const image = sampleImage();
    await page.locator('#files').setInputFiles(image);
    const card = page.locator('article.result').first();
    await card.locator('[data-top="label"]').waitFor();
    const classifiedAt = Date.now();
    const label = await card.locator('[data-top="label"]').textContent();
    const answered = /Answered by version (\S+)\./.exec((await card.textContent())!)![1];
    expect(versions).toContain(answered);
    expect(await card.locator('.probabilities .bar-row').count()).toBe(base.manifest.classes.length);
    expect(await card.textContent()).toMatch(/No review needed|Review:/);
    expect(await card.textContent()).toMatch(/Decode [\d.]+ ms, preprocess [\d.]+ ms, inference [\d.]+ ms/);
    // The same image through the API, pinned to the version that answered, gives the same label.
    const direct = await api(tokens.admin, 'POST', `/v1/classify?version=${answered}`, new Uint8Array(readFileSync(image)));
    expect(direct.body.top.label).toBe(label);
    // Confirming its true class feeds the live accuracy.
    await card.getByLabel('True class').selectOption(image.split('/').at(-2)!);
    await card.getByRole('button', { name: 'Confirm' }).click();
    await card.locator('.message.ok').waitFor();
    await shoot(page, '6-try-it');

    const index = versions.indexOf(answered);
    await expect.poll(() => count(answered), { timeout: 15_000, interval: 250 }).toBeGreaterThanOrEqual(before[index] + 1);
    const seenAfterMs = Date.now() - classifiedAt;
    expect(await live.evaluate(() => (window as any).notReloaded)).toBe(true);
    await live.locator(`article.live[data-version="${answered}"] table.heat`).waitFor({ timeout: 15_000 });
    writeFileSync(join(ARTEFACTS, 'live.json'), JSON.stringify({ answered, seenAfterMs }, null, 2));
    console.log(`live view counted the classification ${seenAfterMs} ms after the page showed it`);
    await shoot(live, '7-live');
    await live.close();
  });

  it('provisions a device (token shown once, copy button) and revokes it', async () => {
    await openView(page, 'Devices');
    await page.getByLabel('Name').fill('e2e-analyser');
    await page.getByRole('button', { name: 'Provision' }).click();
    const field = page.locator('#new-token');
    await field.waitFor();
    const token = await field.inputValue();
    expect(token).toMatch(/^cs_/);
    await page.getByRole('button', { name: 'Copy token' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    expect((await api(token, 'POST', '/v1/classify', new Uint8Array(readFileSync(sampleImage())))).status).toBe(200);
    await page.locator('tr[data-device="e2e-analyser"]').waitFor();
    await shoot(page, '8-devices');

    await page.getByRole('button', { name: 'Revoke e2e-analyser' }).click();
    await page.locator('.message.ok', { hasText: 'e2e-analyser is revoked' }).waitFor();
    expect(await page.locator('tr[data-device="e2e-analyser"]').count()).toBe(0);
    expect((await api(token, 'POST', '/v1/classify', new Uint8Array(readFileSync(sampleImage())))).status).toBe(401);
    const { body } = await api(tokens.admin, 'GET', '/v1/devices');
    expect(body.devices.map((d: { name: string }) => d.name)).not.toContain('e2e-analyser');
  });

  it('charts drift per device and raises the alert for a device whose photos are unlike the training photos', async () => {
    const device = 'e2e-camera-swapped';
    const { body: created } = await api(tokens.admin, 'POST', '/v1/devices', { name: device });
    // A camera or stain gone wrong: blank, single-colour and grayscale frames, ten answers (the default fewest for an alert).
    const answeredBy = new Set<string>();
    for (const image of await unlikeFrames()) {
      const { status, body } = await api(created.token, 'POST', '/v1/classify', image);
      expect(status).toBe(200);
      expect(body.reasons).toContain('out_of_domain');
      answeredBy.add(body.model.version);
    }
    // Routing is sticky per device: one version answered them all.
    const [version] = [...answeredBy];
    expect(answeredBy.size).toBe(1);
    await openView(page, 'Live');
    const card = page.locator(`article.drift[data-device="${device}"][data-version="${version}"]`);
    await card.waitFor();
    expect(await card.getAttribute('data-alert')).toBe('true');
    expect(await card.locator('.badge').textContent()).toBe('Drift alert');
    const status = page.getByRole('alert').filter({ hasText: 'Drift alert' });
    expect(await status.textContent()).toBe(`Drift alert: ${device}. ${device} (${version}): 100.0% of 10 answers out of domain. Check its camera, magnification and stain.`);
    // Three charts: flagged shares against the alert level, the mean domain score, the class mix.
    expect(await card.locator('svg.chart').count()).toBe(3);
    const points = card.locator('svg.chart').first().locator('circle title');
    expect(await points.allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^Out of domain: 100\.0% of \d+ from /)]));
    expect(await card.locator('svg.chart').first().locator('line.reference title').textContent()).toBe('alert level 20.0%');
    expect(await card.locator('svg.chart').nth(2).locator('rect[fill]').count()).toBeGreaterThan(0);
    // The device that only sent a real photo (Try it, above) is not in alert.
    const others = page.locator('article.drift[data-alert="false"]');
    expect(await others.count()).toBeGreaterThan(0);
    expect(await others.first().locator('.badge').textContent()).toBe('Too few answers to judge');
    // The page shows what the API says.
    const { body: stats } = await api(tokens.admin, 'GET', '/v1/stats');
    expect(stats.drift.alerting).toEqual([device]);
    await shoot(page, '9-drift');
  });

  it('fits every view in a 420 px wide window: nothing wider than the page', async () => {
    const views = ['Models', 'Routing', 'Live', 'Try it', 'Devices'];
    const measured = [];
    await page.setViewportSize({ width: 420, height: 900 });
    try {
      for (const view of views) {
        await openView(page, view);
        if (view === 'Live') await page.locator('#live-cards[aria-busy="false"]').waitFor();
        measured.push({ view, ...(await widerThanPage(page)) });
        await shoot(page, `10-narrow-${view.toLowerCase().replace(/\W+/g, '-')}`);
      }
    } finally {
      await page.setViewportSize({ width: 1366, height: 900 });
    }
    expect(measured).toEqual(views.map((view) => ({ view, page: 420, overflowing: [] })));
  });

  it.each([
    ['never answers', 'the Worker did not answer within 10 s; the request was given up'],
    ['starts its answer and then stalls', 'the Worker did not finish its answer within 10 s; the request was given up'],
  ])('gives up a Live refresh that %s, says so, and recovers on the next one', async (how, message) => {
    // A server that sends the headers and the start of a JSON body, and then nothing more.
    const stalled = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"versions": [');
    });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const tab = await context.newPage();
    // The first /v1/stats request is held without an answer, as a stuck connection would be, or
    // sent on to the stalling server.
    await tab.route('**/v1/stats*', (route) => (how === 'never answers' ? undefined : route.continue({ url: `http://127.0.0.1:${(stalled.address() as AddressInfo).port}/v1/stats` })), { times: 1 });
    try {
      await tab.goto(`${dev.url}/console/#live`, { waitUntil: 'domcontentloaded' });
      await signIn(tab, tokens.admin);
      // The view's own message area (the drift banner shares its classes once the numbers load).
      const error = tab.locator('.view .message.error:not(#drift-status)');
      await error.waitFor({ timeout: 20_000 });
      expect(await error.textContent()).toBe(message);
      await tab.locator('#live-cards[aria-busy="false"]').waitFor({ timeout: 20_000 });
      await error.waitFor({ state: 'hidden' });
    } finally {
      await tab.close();
      stalled.closeAllConnections();
      stalled.close();
    }
  }, 60_000);

  it('never put a token in a URL, and the page stays small', () => {
    expect(urls.length).toBeGreaterThan(10);
    for (const secret of [tokens.admin, tokens.devices[0]]) expect(urls.filter((u) => u.includes(secret))).toEqual([]);
    const weight = pageWeight();
    writeFileSync(join(ARTEFACTS, 'weight.json'), JSON.stringify(weight, null, 2));
    console.log(`console page weight: ${(weight.bytes / 1024).toFixed(1)} KiB raw, ${(weight.gzip / 1024).toFixed(1)} KiB gzip (${weight.files.length} files)`);
    expect(weight.gzip).toBeLessThan(40 * 1024);
  });
});
