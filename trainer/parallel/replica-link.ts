/**
 * The memory replicas of a data-parallel step share (one SharedArrayBuffer) and the synchronous
 * sum over replicas that batch norm needs in the middle of a forward or backward pass. Replica 0
 * is the main thread, 1..n-1 are worker threads. Everything here is plain typed arrays and Atomics:
 * no tfjs, so it is the same code on both sides.
 */
import { availableParallelism } from 'node:os';

export interface LinkLayout {
  replicas: number;
  /** Float64 values one replica contributes to one sum, at most. */
  reduceLength: number;
  /** Examples per batch, at most, and floats per example of x and of y. */
  maxBatch: number;
  xSize: number;
  ySize: number;
  /** Element counts of every model weight, in `model.weights` order, and which are trainable. */
  weightSizes: number[];
  trainable: boolean[];
}

const COUNT = 0;
const ABORT = 1;
const CONTROL_INTS = 16;
/** How long one replica waits for the others in a sum before giving up. */
const WAIT_LIMIT_MS = 300_000;
/**
 * How long a replica polls before it sleeps in Atomics.wait. Waking a sleeping thread costs a
 * futex wake-up and a reschedule on this kind of VM, and batch norm meets the other replicas 8
 * times a step for compact, most often within a millisecond. Polling for up to 1 ms first took
 * 1.4-5 ms off a 64-95 ms 2-replica step (blocks of 5 steps alternating with and without, in one
 * process, 3 runs). With a core per replica the poll burns time that core would idle; with more
 * replicas than cores it would take the core from a replica still computing, so there is none.
 */
const SPIN_MS = 1;

export class ReplicaAbort extends Error {}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Byte offsets of the sections, each 8-aligned. */
function sections(layout: LinkLayout) {
  const trainableSize = sum(layout.weightSizes.filter((_, i) => layout.trainable[i]));
  const sizes = {
    control: CONTROL_INTS * 4,
    reduce: 2 * layout.replicas * layout.reduceLength * 8,
    x: layout.maxBatch * layout.xSize * 4,
    y: layout.maxBatch * layout.ySize * 4,
    weights: sum(layout.weightSizes) * 4,
    grads: (layout.replicas - 1) * trainableSize * 4,
  };
  let at = 0;
  const offsets = {} as Record<keyof typeof sizes, number>;
  for (const key of Object.keys(sizes) as (keyof typeof sizes)[]) {
    offsets[key] = at;
    at += Math.ceil(sizes[key] / 8) * 8;
  }
  return { offsets, bytes: at, trainableSize };
}

export function createSharedBuffer(layout: LinkLayout): SharedArrayBuffer {
  return new SharedArrayBuffer(sections(layout).bytes);
}

/** One replica's view of the shared memory. */
export class ReplicaLink {
  readonly control: Int32Array;
  readonly reduce: Float64Array;
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly weights: Float32Array;
  /** Replica r's (r >= 1) gradients of every trainable weight, concatenated. */
  readonly grads: Float32Array[];
  private generation = 0;
  /** Time this replica spent waiting for the others in sums, for profiling. */
  waitedMs = 0;
  private readonly spinMs: number;
  /**
   * Work to do while waiting for the others, a small unit per call (false: nothing left): the
   * main thread prepares the next batch here. It must not touch tfjs, as it runs inside a kernel.
   */
  idle: (() => boolean) | null = null;

  constructor(readonly buffer: SharedArrayBuffer, readonly layout: LinkLayout, readonly rank: number) {
    this.spinMs = layout.replicas <= availableParallelism() ? SPIN_MS : 0;
    const { offsets, trainableSize } = sections(layout);
    this.control = new Int32Array(buffer, offsets.control, CONTROL_INTS);
    this.reduce = new Float64Array(buffer, offsets.reduce, 2 * layout.replicas * layout.reduceLength);
    this.x = new Float32Array(buffer, offsets.x, layout.maxBatch * layout.xSize);
    this.y = new Float32Array(buffer, offsets.y, layout.maxBatch * layout.ySize);
    this.weights = new Float32Array(buffer, offsets.weights, sum(layout.weightSizes));
    this.grads = Array.from({ length: layout.replicas }, (_, r) =>
      new Float32Array(buffer, offsets.grads + Math.max(0, r - 1) * trainableSize * 4, r === 0 ? 0 : trainableSize));
  }

  /**
   * Replaces `values` by their sum over all replicas. Every replica calls this the same number of
   * times in the same order; each adds the contributions in replica order, so all get the same bits.
   * Two alternating slot sets mean one barrier per call suffices: nobody can write a set again
   * before everyone has passed the next barrier, i.e. finished reading it.
   */
  readonly sum = (values: Float64Array): void => {
    const { replicas, reduceLength } = this.layout;
    if (values.length > reduceLength) throw new Error(`replica sum of ${values.length} values exceeds the ${reduceLength} reserved`);
    this.generation++;
    const set = (this.generation % 2) * replicas;
    this.reduce.set(values, (set + this.rank) * reduceLength);
    Atomics.add(this.control, COUNT, 1);
    Atomics.notify(this.control, COUNT);
    const waitStart = performance.now();
    this.waitFor(replicas * this.generation);
    this.waitedMs += performance.now() - waitStart;
    values.fill(0);
    for (let r = 0; r < replicas; r++) {
      const from = (set + r) * reduceLength;
      for (let i = 0; i < values.length; i++) values[i] += this.reduce[from + i];
    }
  };

  private waitFor(target: number): void {
    const reached = () => Atomics.load(this.control, COUNT) >= target || Atomics.load(this.control, ABORT) !== 0;
    while (this.idle && !reached() && this.idle());
    const spinUntil = performance.now() + this.spinMs;
    while (!reached() && performance.now() < spinUntil);
    const started = Date.now();
    for (;;) {
      if (Atomics.load(this.control, ABORT)) throw new ReplicaAbort('another training replica failed');
      const seen = Atomics.load(this.control, COUNT);
      if (seen >= target) return;
      if (Date.now() - started > WAIT_LIMIT_MS) {
        this.abort();
        throw new ReplicaAbort(`training replicas out of step: waited ${WAIT_LIMIT_MS / 1000} s for the others`);
      }
      Atomics.wait(this.control, COUNT, seen, 1000);
    }
  }

  /** Tells every replica to stop waiting: one of them failed. */
  abort(): void {
    Atomics.store(this.control, ABORT, 1);
    Atomics.notify(this.control, COUNT);
  }
}
