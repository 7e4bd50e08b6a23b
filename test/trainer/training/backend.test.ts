import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, sampleSubset, tempDir } from '../cli-helpers.ts';

/** Whether @tensorflow/tfjs-node installed here (it cannot where libtensorflow's download is blocked). */
function tfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

const tiny = ['--input-size', '16', '--epochs', '1', '--quiet'];

describe('training backends', () => {
  it.runIf(!tfjsNodeInstalled())('--backend node without tfjs-node fails at once, saying how to install it or what to use', async () => {
    const data = await sampleSubset(4);
    const r = cli(['train', '--data', data, '--out', await tempDir(), '--backend', 'node', ...tiny]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--backend node: @tensorflow\/tfjs-node is unavailable \(not installed\).*npm install @tensorflow\/tfjs-node.*--backend wasm/);
  });

  it.runIf(tfjsNodeInstalled())('--backend node trains on tfjs-node where it is installed', async () => {
    const data = await sampleSubset(4);
    const out = await tempDir();
    const r = cli(['train', '--data', data, '--out', out, '--version', 'n1', '--backend', 'node', ...tiny]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/model n1 written/);
  });

  it('--backend cpu stays selectable and trains (slowly) on pure JavaScript', async () => {
    const data = await sampleSubset(4);
    const out = await tempDir();
    const r = cli(['train', '--data', data, '--out', out, '--version', 'c1', '--backend', 'cpu', ...tiny, '--cache-dir', path.join(out, '.cache')]);
    expect(r.status, r.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(out, 'c1', 'manifest.json'), 'utf8'));
    expect(manifest.training.backend).toBe('cpu');
  });
});
