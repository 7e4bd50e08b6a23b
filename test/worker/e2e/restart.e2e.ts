import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelDir, readModelFolder } from '../../../trainer/export/model-folder.ts';
import { renamedVersion, seedLocalState, startDevServer } from '../../../scripts/lib/dev-server.ts';
import { sampleImage } from '../../../scripts/lib/local-setup.ts';
import { ROOT } from '../../../scripts/lib/wrangler-cli.ts';

// Node side, outside workerd: real `wrangler dev` processes on a throwaway persisted state.
const state = mkdtempSync(join(tmpdir(), 'cellsense-restart-'));
let tokens: { admin: string; devices: string[] };
let versions: [string, string];

const route = (...args: string[]) =>
  execFileSync(join(ROOT, 'node_modules/.bin/tsx'), ['scripts/route.ts', ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

async function api(url: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': body instanceof Uint8Array ? 'image/jpeg' : 'application/json' },
    body: body === undefined ? undefined : body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  const base = await readModelFolder(defaultModelDir());
  versions = [base.manifest.version, `${base.manifest.version}-b`];
  tokens = await seedLocalState(state, [base, renamedVersion(base, versions[1])], 2);
  // The route CLI writes the local state directly (--local), as a lab would before `npm run dev`.
  const out = route('--local', '--persist-to', state, '--set', `${versions[0]}=50,${versions[1]}=50`);
  expect(out).toContain('now in force');
}, 60_000);

afterAll(() => rmSync(state, { recursive: true, force: true }));

describe('wrangler dev restarted on the same state', () => {
  it('keeps the statistics, the feedback and the routing', async () => {
    const image = new Uint8Array(readFileSync(sampleImage()));
    const first = await startDevServer({ persistTo: state });
    let before: { stats: any; routing: any; ids: string[] };
    try {
      const ids = [];
      for (const token of [...tokens.devices, ...tokens.devices]) {
        const res = await api(first.url, token, 'POST', '/v1/classify', image);
        expect(res.status).toBe(200);
        ids.push(res.body.id as string);
      }
      expect((await api(first.url, tokens.admin, 'POST', '/v1/feedback', { id: ids[0], label: 'NEUTROPHIL' })).status).toBe(201);
      const stats = (await api(first.url, tokens.admin, 'GET', '/v1/stats')).body;
      expect(stats.versions.reduce((n: number, v: any) => n + v.requests, 0)).toBe(4);
      expect(stats.versions.some((v: any) => v.feedback?.count === 1)).toBe(true);
      before = { stats, routing: (await api(first.url, tokens.admin, 'GET', '/v1/routing')).body, ids };
    } finally {
      await first.stop();
    }

    const second = await startDevServer({ persistTo: state });
    try {
      const stats = (await api(second.url, tokens.admin, 'GET', '/v1/stats')).body;
      expect(stats.versions).toEqual(before.stats.versions);
      expect((await api(second.url, tokens.admin, 'GET', '/v1/routing')).body).toEqual(before.routing);
      // The stored feedback still decides: the same label is a no-op, another one a conflict.
      expect((await api(second.url, tokens.admin, 'POST', '/v1/feedback', { id: before.ids[0], label: 'NEUTROPHIL' })).status).toBe(200);
      expect((await api(second.url, tokens.admin, 'POST', '/v1/feedback', { id: before.ids[0], label: 'MONOCYTE' })).status).toBe(409);
      // The CLI through the running Worker's admin API.
      const shown = JSON.parse(route('--url', second.url, '--token', tokens.admin, '--show', '--json'));
      expect(shown.routing.id).toBe(before.routing.routing.id);
    } finally {
      await second.stop();
    }
  }, 120_000);
});
