import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

/**
 * Just enough of the Chrome DevTools Protocol, over `--remote-debugging-pipe`, to load a page
 * and ask it for layout: the report has no scripts of its own, so element sizes can only be
 * read from outside. No npm package needed: Debian's chromium speaks it on file descriptors 3/4.
 */
export interface BrowserPage {
  /** Evaluates `expression` in the page; its value must be JSON-serialisable. */
  evaluate<T>(expression: string): Promise<T>;
  /** Writes a PNG of `clip` (CSS pixels, page coordinates), beyond the window if need be. */
  screenshot(file: string, clip: { x: number; y: number; width: number; height: number }): Promise<void>;
  close(): Promise<void>;
}

export interface OpenPageOptions {
  chromium: string;
  profileDir: string;
  width: number;
  height: number;
  /** Per protocol call; a hung browser fails the test instead of stalling it. */
  timeoutMs?: number;
}

interface Message {
  id?: number;
  method?: string;
  sessionId?: string;
  result?: Record<string, unknown>;
  error?: { message: string };
}

export async function openPage(file: string, o: OpenPageOptions): Promise<BrowserPage> {
  const child = spawn(
    o.chromium,
    [
      '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--hide-scrollbars', '--remote-debugging-pipe',
      `--user-data-dir=${o.profileDir}`, `--window-size=${o.width},${o.height}`, 'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  const input = child.stdio[3] as NodeJS.WritableStream;
  const output = child.stdio[4] as NodeJS.ReadableStream;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  const listeners: { method: string; resolve: () => void }[] = [];
  let nextId = 0;
  let buffer = '';
  output.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let end = buffer.indexOf('\0'); end >= 0; end = buffer.indexOf('\0')) {
      const message = JSON.parse(buffer.slice(0, end)) as Message;
      buffer = buffer.slice(end + 1);
      if (message.id !== undefined) {
        const call = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) call?.reject(new Error(`CDP: ${message.error.message}`));
        else call?.resolve(message);
      } else {
        listeners.filter((l) => l.method === message.method).forEach((l) => l.resolve());
      }
    }
  });
  child.on('exit', (code) => {
    for (const call of pending.values()) call.reject(new Error(`chromium exited (${code}): ${stderr}`));
    pending.clear();
  });

  const send = (method: string, params: object = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => reject(new Error(`CDP ${method} timed out; chromium said: ${stderr}`)), o.timeoutMs ?? 30_000);
      pending.set(id, {
        resolve: (m) => (clearTimeout(timer), resolve(m.result ?? {})),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      input.write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
    });
  const event = (method: string) => new Promise<void>((resolve) => listeners.push({ method, resolve }));

  const { targetInfos } = (await send('Target.getTargets')) as { targetInfos: { targetId: string; type: string }[] };
  const target = targetInfos.find((t) => t.type === 'page');
  if (!target) throw new Error('chromium opened no page');
  const { sessionId } = (await send('Target.attachToTarget', { targetId: target.targetId, flatten: true })) as { sessionId: string };
  await send('Page.enable', {}, sessionId);
  const loaded = event('Page.loadEventFired');
  await send('Page.navigate', { url: pathToFileURL(file).href }, sessionId);
  await loaded;

  return {
    async evaluate<T>(expression: string) {
      const r = (await send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)) as {
        result: { value: T };
        exceptionDetails?: { text: string };
      };
      if (r.exceptionDetails) throw new Error(`page threw: ${r.exceptionDetails.text}`);
      return r.result.value;
    },
    async screenshot(path, clip) {
      const { data } = (await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip: { ...clip, scale: 1 } }, sessionId)) as { data: string };
      await writeFile(path, Buffer.from(data, 'base64'));
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await send('Browser.close').catch(() => child.kill());
      await exited;
    },
  };
}
