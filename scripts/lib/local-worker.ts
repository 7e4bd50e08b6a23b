import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './wrangler-cli.ts';

// Where `npm start`, `npm run dev` and the benches note the `wrangler dev` they run, beside the
// state it serves, so `npm run token -- --revoke` can reach its isolate.
const recordOf = (persistTo?: string) => join(persistTo ?? join(ROOT, '.wrangler/state'), 'cellsense-worker.json');

/**
 * Notes that a Worker serving the local state (or the one under `persistTo`) answers at `url`
 * while this process runs; returns what forgets it sooner.
 *
 * @example
 * const forget = recordLocalWorker('http://127.0.0.1:8787');
 */
export function recordLocalWorker(url: string, persistTo?: string): () => void {
  const file = recordOf(persistTo);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ url, pid: process.pid }));
  const forget = () => {
    try {
      if (JSON.parse(readFileSync(file, 'utf8')).url === url) rmSync(file);
    } catch {
      // already gone
    }
  };
  process.once('exit', forget);
  return forget;
}

/** The URL of the Worker serving the local state (or the one under `persistTo`), when the process that runs it is alive. */
export function localWorkerUrl(persistTo?: string): string | null {
  try {
    const { url, pid } = JSON.parse(readFileSync(recordOf(persistTo), 'utf8')) as { url: string; pid: number };
    process.kill(pid, 0);
    return url;
  } catch {
    return null;
  }
}
