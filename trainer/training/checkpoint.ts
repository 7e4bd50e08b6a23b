import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import type { EpochRecord } from '../report/types.ts';

/** What a run needs to continue from its last completed epoch. */
export interface CheckpointState {
  /** Identifies the run's settings; a checkpoint of other settings is not resumed. */
  runKey: string;
  epochsDone: number;
  history: EpochRecord[];
  bestEpoch: number;
  bestValLoss: number;
  epochsSinceBest: number;
  elapsedMs: number;
}

async function encode(tensors: NamedTensor[]): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: Uint8Array }> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const flat = tf.io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]);
  return { specs, data: new Uint8Array(flat) };
}

function decode(specs: tf.io.WeightsManifestEntry[], data: Buffer): tf.NamedTensorMap {
  return tf.io.decodeWeights(data.buffer.slice(data.byteOffset, data.byteOffset + data.length) as ArrayBuffer, specs);
}

/**
 * A run's checkpoint folder beside its output: current and best weights, the optimizer's
 * moments and the loop state, written to a temp folder and swapped in, so a Ctrl-C or
 * crash mid-write leaves the previous checkpoint intact.
 */
export class Checkpoint {
  constructor(readonly dir: string) {}

  async save(state: CheckpointState, model: tfl.LayersModel, best: tf.Tensor[], optimizer: tf.Optimizer): Promise<void> {
    const tmp = `${this.dir}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    const named = (list: tf.Tensor[], prefix: string) => list.map((tensor, i) => ({ name: `${prefix}${i}`, tensor }));
    const parts = {
      current: await encode(named(model.getWeights(), 'w')),
      best: await encode(named(best, 'w')),
      optimizer: await encode(await optimizer.getWeights()),
    };
    for (const [name, { specs, data }] of Object.entries(parts)) {
      await writeFile(path.join(tmp, `${name}.bin`), data);
      await writeFile(path.join(tmp, `${name}.json`), JSON.stringify(specs));
    }
    await writeFile(path.join(tmp, 'state.json'), JSON.stringify(state, null, 1));
    await rm(this.dir, { recursive: true, force: true });
    await rename(tmp, this.dir);
  }

  async readState(): Promise<CheckpointState | null> {
    try {
      return JSON.parse(await readFile(path.join(this.dir, 'state.json'), 'utf8'));
    } catch {
      return null;
    }
  }

  /** Restores weights and optimizer moments into live objects; returns the best weights. */
  async restore(model: tfl.LayersModel, optimizer: tf.Optimizer): Promise<tf.Tensor[]> {
    const load = async (name: string) =>
      decode(JSON.parse(await readFile(path.join(this.dir, `${name}.json`), 'utf8')), await readFile(path.join(this.dir, `${name}.bin`)));
    const ordered = (map: tf.NamedTensorMap) => Object.keys(map).sort((a, b) => +a.slice(1) - +b.slice(1)).map((k) => map[k]);
    const current = ordered(await load('current'));
    model.setWeights(current);
    tf.dispose(current);
    const opt = await load('optimizer');
    await optimizer.setWeights(Object.entries(opt).map(([name, tensor]) => ({ name, tensor })));
    return ordered(await load('best'));
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
