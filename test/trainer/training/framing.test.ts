import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '../../../trainer/training/cpu-backend.ts';
import { describe, expect, it } from 'vitest';
import { argMax, plainInference, preparePixels } from '../../../shared/index.ts';
import { predictAll } from '../../../trainer/data/batches.ts';
import { decodeForModel } from '../../../trainer/data/dataset-load.ts';
import { defaultModelDir, readModelFolder } from '../../../trainer/export/model-folder.ts';
import { loadModel } from '../../../trainer/export/model-io.ts';
import { reframe } from './reframe.ts';

const root = path.resolve(import.meta.dirname, '../../..');

describe('the default model on photos framed otherwise', () => {
  it('answers a re-framed sample photo as it answers the original, at least 95 times in 100', { timeout: 600_000 }, async () => {
    await tf.setBackend('cpu');
    const dir = await defaultModelDir(path.join(root, 'models'));
    const manifest = (await readModelFolder(dir)).manifest;
    const model = await loadModel(dir);
    const params = manifest.preprocessing, policy = manifest.inference ?? plainInference;
    const answer = async (images: Uint8Array[]) => {
      const examples = await Promise.all(images.map(async (bytes) => ({ pixels: preparePixels(await decodeForModel(bytes, params), params), label: 0 })));
      const probabilities = await predictAll(model, examples, params, manifest.classes.length, policy);
      const n = manifest.classes.length;
      return images.map((_, i) => argMax(probabilities.subarray(i * n, (i + 1) * n)));
    };
    const agreed = new Map<string, [number, number]>();
    const sampleRoot = path.join(root, 'data/sample');
    for (const label of manifest.classes) {
      // Every other photo: the sample holds 6 copies of each source photo, so 3 still cover them all.
      const files = (await readdir(path.join(sampleRoot, label))).filter((f) => f.endsWith('.jpeg')).sort();
      for (const file of files.filter((_, i) => i % 2 === 0)) {
        const original = new Uint8Array(await readFile(path.join(sampleRoot, label, file)));
        const framings = await reframe(original);
        const [first, ...others] = await answer([original, ...framings.map((f) => f.bytes)]);
        framings.forEach((f, i) => {
          const tally = agreed.get(f.name) ?? [0, 0];
          agreed.set(f.name, [tally[0] + (others[i] === first ? 1 : 0), tally[1] + 1]);
        });
      }
    }
    model.dispose();
    const [same, total] = [...agreed.values()].reduce((s, [a, n]) => [s[0] + a, s[1] + n], [0, 0]);
    const detail = [...agreed].map(([name, [a, n]]) => `${name} ${((100 * a) / n).toFixed(0)}%`).join(', ');
    console.log(`framing: ${same} of ${total} re-framed photos answered as the original (${((100 * same) / total).toFixed(1)}%): ${detail}`);
    expect(total).toBeGreaterThan(800);
    expect(same / total).toBeGreaterThanOrEqual(0.95);
  });
});
