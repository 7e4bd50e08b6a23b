import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { TrainBenchRow } from './train-bench.ts';

/** Debian's interpreter: python3-torch installs for it, not for a pyenv or venv python on the PATH. */
export const debianPython = '/usr/bin/python3';
const script = fileURLToPath(new URL('./torch-bench.py', import.meta.url));

export interface TorchRow extends Omit<TrainBenchRow, 'workers'> {
  /** torch.set_num_threads for this row. */
  threads: number;
  /** Whether glibc was told to keep freed memory (torch-bench.py's keep_freed_memory) before torch ran. */
  freedMemoryKept?: boolean;
}

type TorchBaseline = { rows: TorchRow[] } | { skipped: string };

interface TorchBaselineOptions {
  archs: { arch: string; inputSize: number }[];
  batch: number;
  steps: number;
  /** Seconds of training steps before the measured ones (TrainBenchOptions.warmupSeconds). */
  warmupSeconds: number;
  /** Thread counts to measure (PyTorch's figure is the best of them); default [cores, 1]. */
  threads?: number[];
  log?: (line: string) => void;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(debianPython, args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The same architectures trained in PyTorch on this machine (bench/train/torch-bench.py), for
 * the project/PyTorch ratio. Installs nothing: without Debian's python3-torch it says how to get it.
 */
export async function runTorchBaseline(options: TorchBaselineOptions): Promise<TorchBaseline> {
  if (!existsSync(debianPython)) return { skipped: `${debianPython} not found: PyTorch's baseline needs Debian's python3 and python3-torch (apt-get install python3-torch)` };
  const rows: TorchRow[] = [];
  for (const threads of [...new Set(options.threads ?? [availableParallelism(), 1])]) {
    const args = [script, '--batch', String(options.batch), '--steps', String(options.steps), '--warmup-seconds', String(options.warmupSeconds), '--threads', String(threads),
      ...options.archs.flatMap((a) => ['--arch', `${a.arch}:${a.inputSize}`])];
    const { code, stdout, stderr } = await run(args);
    if (code === 3) return { skipped: `PyTorch is not installed for ${debianPython} (${stderr.trim()}); install it with \`apt-get install python3-torch\`` };
    if (code !== 0) return { skipped: `the PyTorch bench failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}` };
    for (const line of stdout.trim().split('\n').filter(Boolean)) {
      const row = { ...(JSON.parse(line) as Omit<TorchRow, 'threads'>), threads };
      options.log?.(`${row.arch} ${row.inputSize}px on ${row.backend}, ${threads} thread(s): train ${row.trainImagesPerSecond.toFixed(1)} img/s, infer ${row.inferImagesPerSecond.toFixed(1)} img/s`);
      rows.push(row);
    }
  }
  return { rows };
}
