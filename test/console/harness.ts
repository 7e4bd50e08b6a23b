import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { ROOT } from '../../scripts/lib/wrangler-cli.ts';


/** Screenshots and figures of the last run (tmp/ is gitignored). */
export const ARTEFACTS = join(ROOT, 'tmp/console-e2e');

const CONSOLE_DIR = join(ROOT, 'worker/console/public/console');

/** The console's files with their raw and gzip sizes: what a browser downloads for the page. */
export function pageWeight(): { files: { path: string; bytes: number; gzip: number }[]; bytes: number; gzip: number } {
  const files = readdirSync(CONSOLE_DIR)
    .filter((name) => statSync(join(CONSOLE_DIR, name)).isFile())
    .map((name) => {
      const content = readFileSync(join(CONSOLE_DIR, name));
      return { path: relative(ROOT, join(CONSOLE_DIR, name)), bytes: content.length, gzip: gzipSync(content, { level: 9 }).length };
    });
  return { files, bytes: files.reduce((n, f) => n + f.bytes, 0), gzip: files.reduce((n, f) => n + f.gzip, 0) };
}

/** Saves a full-page screenshot under tmp/console-e2e/<name>.png. */
export async function shoot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTEFACTS, { recursive: true });
  const path = join(ARTEFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The Worker's API from Node, to check what the page did (and did not) change. */
export function apiClient(url: string) {
  return async (token: string, method: string, path: string, body?: unknown) => {
    const binary = body instanceof Uint8Array;
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': binary ? 'image/jpeg' : 'application/json' },
      body: body === undefined ? undefined : binary ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text.startsWith('{') ? JSON.parse(text) : text };
  };
}

/** Signs in through the form, as a person would. */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Moves to a view through its navigation link, with the keyboard (focus + Enter). */
export async function openView(page: Page, name: string): Promise<void> {
  const link = page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name, exact: true });
  await link.focus();
  await page.keyboard.press('Enter');
  await page.locator('.view[aria-busy="false"]').waitFor();
}

/**
 * The page's scrolling width, and the elements that reach past the window's right edge without a
 * scrolling box of their own to hold them (as `tag.class "text"`), for a message that says where.
 */
export async function widerThanPage(page: Page): Promise<{ page: number; overflowing: string[] }> {
  return page.evaluate(() => {
    const edge = document.documentElement.clientWidth;
    const clipped = (el: Element) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) if (getComputedStyle(p).overflowX !== 'visible' && p.getBoundingClientRect().right <= edge + 0.5) return true;
      return false;
    };
    const overflowing = Array.from(document.body.querySelectorAll('*'))
      .filter((el) => el.getBoundingClientRect().right > edge + 0.5 && !clipped(el))
      // getAttribute: an SVG element's className is an object, not the class list.
      .map((el) => `${el.tagName.toLowerCase()}${el.getAttribute('class') ? `.${el.getAttribute('class')!.trim().replace(/\s+/g, '.')}` : ''} "${(el.textContent ?? '').trim().slice(0, 30)}"`);
    return { page: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth), overflowing: overflowing.slice(0, 8) };
  });
}
