import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultPreprocessing } from '../../../shared/index.ts';
import { loadDataset } from '../../../trainer/data/dataset-load.ts';
import { scanDataset } from '../../../trainer/data/dataset-scan.ts';
import { DatasetError } from '../../../trainer/errors.ts';

const sample = path.resolve(import.meta.dirname, '../../../data/sample');

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'cellsense-ds-'));
}

async function tree(files: Record<string, string | Uint8Array>): Promise<string> {
  const root = await tempDir();
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }
  return root;
}

describe('scanDataset', () => {
  let jpeg: Uint8Array;
  beforeAll(async () => {
    jpeg = await readFile(path.join(sample, 'EOSINOPHIL', '_0_1169.jpeg')).catch(async () => {
      const dir = path.join(sample, 'EOSINOPHIL');
      const { readdir } = await import('node:fs/promises');
      return readFile(path.join(dir, (await readdir(dir)).find((f) => f.endsWith('.jpeg'))!));
    });
  });

  it('lists classes as sorted folder names', async () => {
    const scan = await scanDataset(sample);
    expect(scan.classes).toEqual(['EOSINOPHIL', 'LYMPHOCYTE', 'MONOCYTE', 'NEUTROPHIL']);
    expect(scan.files.length).toBe(192);
  });

  it.each([
    ['a missing folder', async () => path.join(await tempDir(), 'nope'), /does not exist/],
    ['a file instead of a folder', async () => path.join(await tree({ 'x.txt': 'hi' }), 'x.txt'), /is a file, not a folder/],
    ['an empty folder', async () => tempDir(), /no class folders/],
    ['one class', async () => tree({ 'A/1.jpeg': jpeg, 'A/2.jpeg': jpeg }), /only one class folder \(A\)/],
    ['a class with one image', async () => tree({ 'A/1.jpeg': jpeg, 'A/2.jpeg': jpeg, 'B/1.jpeg': jpeg }), /B has 1 image: each class needs at least 2/],
  ])('refuses %s with a message naming the path', async (_, makeRoot, message) => {
    const root = await makeRoot();
    const err = await scanDataset(root).catch((e) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect(err.message).toMatch(message);
    expect(err.message).toContain(path.basename(root) === 'x.txt' ? 'x.txt' : root);
  });

  it('skips a corrupt image, names it, and loads the rest', async () => {
    const root = await tree({
      'A/good1.jpeg': jpeg, 'A/good2.jpeg': jpeg, 'A/broken.jpeg': jpeg.slice(0, 300),
      // Decodes with libjpeg's corrupt-data warnings (sharp alone would accept it with failOn 'error').
      'B/cut.jpeg': Uint8Array.from([...jpeg.subarray(0, Math.floor(jpeg.length * 0.3)), 0xff, 0xd9]),
      'B/good1.jpeg': jpeg, 'B/good2.jpeg': jpeg, 'B/notes.txt': 'ignored',
    });
    const scan = await scanDataset(root);
    const ds = await loadDataset(scan, defaultPreprocessing(16), { cacheDir: path.join(root, '.cache') });
    expect(ds.images.map((i) => i.path)).toEqual(['A/good1.jpeg', 'A/good2.jpeg', 'B/good1.jpeg', 'B/good2.jpeg']);
    expect(ds.skipped).toEqual([
      { path: 'A/broken.jpeg', reason: expect.any(String) },
      { path: 'B/cut.jpeg', reason: expect.stringMatching(/damaged or truncated/) },
    ]);
  });

  it('caches prepared pixels: a second load decodes nothing and returns the same bytes', async () => {
    const root = await tree({ 'A/1.jpeg': jpeg, 'A/2.png': new Uint8Array(0), 'B/1.jpeg': jpeg, 'B/2.jpeg': jpeg });
    const cacheDir = path.join(root, '.cache');
    const scan = await scanDataset(root);
    let cached = -1;
    const first = await loadDataset(scan, defaultPreprocessing(16), { cacheDir, concurrency: 1, onProgress: (_d, _t, c) => (cached = c) });
    expect(cached).toBe(2); // the two B files share content with A/1, decoded first
    const second = await loadDataset(scan, defaultPreprocessing(16), { cacheDir, onProgress: (_d, _t, c) => (cached = c) });
    expect(cached).toBe(3);
    expect(second.images.map((i) => [...i.pixels])).toEqual(first.images.map((i) => [...i.pixels]));
    expect(second.fingerprint).toBe(first.fingerprint);
  });
});
