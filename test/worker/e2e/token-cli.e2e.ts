import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelDir, readModelFolder } from '../../../trainer/export/model-folder.ts';
import { seedLocalState, startDevServer, type DevServer } from '../../../scripts/lib/dev-server.ts';
import { sampleImage } from '../../../scripts/lib/local-setup.ts';
import { ROOT } from '../../../scripts/lib/wrangler-cli.ts';

// `npm run token` as a lab runs it, beside a running `wrangler dev` on a throwaway state.
const state = mkdtempSync(join(tmpdir(), 'cellsense-token-'));
let dev: DevServer;

const token = (...args: string[]) => {
  const run = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), ['scripts/token.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CLOUDFLARE_API_TOKEN: '', CLOUDFLARE_ACCOUNT_ID: '' } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
};
// A connection of its own each time: wrangler's dev proxy drops an idle kept-alive one while the CLI runs.
const classify = (bearer: string) =>
  new Promise<number>((resolve, reject) => {
    const req = request(`${dev.url}/v1/classify`, { method: 'POST', agent: false, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'image/jpeg' } }, (res) => {
      res.resume().on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject).end(readFileSync(sampleImage()));
  });

beforeAll(async () => {
  await seedLocalState(state, [await readModelFolder(defaultModelDir())], 0);
  dev = await startDevServer({ persistTo: state });
}, 120_000);

afterAll(async () => {
  await dev?.stop();
  rmSync(state, { recursive: true, force: true });
});

describe('npm run token against a running wrangler dev', () => {
  it('a token revoked with the CLI is refused on the next request', async () => {
    const made = token('--device', 'e2e-lab', '--local', '--persist-to', state);
    expect(made.status).toBe(0);
    const device = made.stdout.trim().split('\n').at(-1)!;
    // Verified once, so the isolate holds it in its token cache.
    expect([await classify(device), await classify(device)]).toEqual([200, 200]);
    const revoked = token('--revoke', 'E2E-LAB', '--local', '--persist-to', state);
    expect(revoked.status).toBe(0);
    expect(revoked.stderr).toContain('revoked through the running Worker');
    expect(await classify(device)).toBe(401);
  });

  it('--remote checks --pin as --local does, before it needs Cloudflare credentials', () => {
    for (const where of ['--local', '--remote']) {
      const run = token('--device', 'e2e-pins', '--pin', 'v1,not a version', where, '--persist-to', state);
      expect([run.status, run.stderr.trim()]).toEqual([1, 'token: pin "not a version" is neither a version name nor "*"']);
    }
  });
});
