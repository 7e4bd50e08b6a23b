import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const repo = path.resolve(import.meta.dirname, '../..');
export const sample = path.join(repo, 'data', 'sample');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the trainer CLI as a user would (through tsx), without a terminal. */
export function cli(args: string[]): CliResult {
  const r = spawnSync(path.join(repo, 'node_modules', '.bin', 'tsx'), [path.join(repo, 'trainer', 'cli.ts'), ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
    timeout: 300_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export async function tempDir(prefix = 'cellsense-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A copy of the first `perClass` sample images of each class (source photos kept together). */
export async function sampleSubset(perClass: number): Promise<string> {
  const root = await tempDir('cellsense-data-');
  for (const cls of await readdir(sample, { withFileTypes: true })) {
    if (!cls.isDirectory()) continue;
    await mkdir(path.join(root, cls.name));
    const files = (await readdir(path.join(sample, cls.name))).sort().slice(0, perClass);
    for (const f of files) await cp(path.join(sample, cls.name, f), path.join(root, cls.name, f));
  }
  return root;
}
