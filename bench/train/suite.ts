import { availableParallelism, loadavg } from 'node:os';
import { architectures } from '../../trainer/training/architectures.ts';
import { defaultWorkers } from '../../trainer/parallel/data-parallel.ts';
import { runEpochBench, type EpochBench } from './epoch.ts';
import { cpuLoopMs, formatCpuLoop, type CpuLoopMs } from './cpu-speed.ts';
import { runTorchBaseline, type TorchRow } from './torch-baseline.ts';
import { runTrainBench, type SkippedBackend, type TrainBenchOptions, type TrainBenchRow } from './train-bench.ts';

/** The training target: project/PyTorch throughput at least this, per architecture. */
const ratioTargets: Record<string, number> = { tutorial: 1.0, compact: 0.7 };

interface TrainSuiteOptions extends TrainBenchOptions {
  /** Rounds of project and PyTorch measurements, interleaved; each figure is its best round. */
  rounds: number;
  torch: boolean;
  /** Folder for the full-epoch timing; null skips it. */
  epochData: string | null;
}

interface Ratio {
  arch: string;
  inputSize: number;
  /** The project's default training setup: wasm with its default replicas. */
  project: number;
  /** PyTorch's best over the thread counts measured. */
  pytorch: number;
  ratio: number;
  target?: number;
  /** The project's best wasm replica count here and its figure (differs from the default on a busy machine). */
  bestWorkers: number;
  best: number;
  /** Images per CPU-second, project default over PyTorch's best: the ratio other load does not skew. */
  cpuRatio: number;
  /**
   * The ratio within each round (project's round i over PyTorch's round i, which ran right after
   * it): how much the headline ratio, best against best, owes to the machine's swings.
   */
  roundRatios: number[];
}

export interface TrainSuiteResult {
  results: TrainBenchRow[];
  pytorch: TorchRow[];
  ratios: Ratio[];
  skipped: SkippedBackend[];
  pytorchSkipped?: string;
  epoch?: EpochBench;
  epochSkipped?: string;
  /**
   * Other work on the machine skews every figure: the 1-minute load average around each part, and
   * how fast each CPU ran the same loop at the start and after each round (see cpuLoopMs).
   */
  machine: { cores: number; load: Record<string, number>; cpuLoopMs?: Record<string, CpuLoopMs> };
  rounds: number;
  /** Seconds of training steps before each row's measured ones. */
  warmupSeconds: number;
  peakRssMB: number;
}

export function ratios(rows: TrainBenchRow[], torch: TorchRow[]): Ratio[] {
  const workers = defaultWorkers('wasm');
  return rows.filter((r) => r.backend === 'wasm' && r.workers === workers).flatMap((r) => {
    const baseline = torch.filter((t) => t.arch === r.arch && t.inputSize === r.inputSize);
    if (!baseline.length) return [];
    const pytorch = Math.max(...baseline.map((t) => t.trainImagesPerSecond));
    const best = rows.filter((o) => o.backend === 'wasm' && o.arch === r.arch).reduce((a, b) => (b.trainImagesPerSecond > a.trainImagesPerSecond ? b : a));
    const rounds = (row: Measured) => row.samples ?? [row.trainImagesPerSecond];
    const torchRound = (i: number) => Math.max(...baseline.map((t) => rounds(t)[i] ?? 0));
    const roundRatios = rounds(r).map((v, i) => v / torchRound(i)).filter(Number.isFinite);
    return [{
      arch: r.arch, inputSize: r.inputSize, project: r.trainImagesPerSecond, pytorch, ratio: r.trainImagesPerSecond / pytorch, target: ratioTargets[r.arch],
      bestWorkers: best.workers, best: best.trainImagesPerSecond,
      cpuRatio: r.trainImagesPerCpuSecond / Math.max(...baseline.map((t) => t.trainImagesPerCpuSecond)),
      roundRatios,
    }];
  });
}

type Measured = { trainImagesPerSecond: number; samples?: number[] };

/** Per configuration (`key`), the round with the best training figure; every round's figure kept in `samples`. */
export function bestOf<T extends Measured>(rounds: T[][], key: (row: T) => string): T[] {
  const best = new Map<string, T>();
  for (const row of rounds.flat()) {
    const k = key(row), kept = best.get(k);
    const samples = [...(kept?.samples ?? []), row.trainImagesPerSecond];
    best.set(k, { ...(kept && kept.trainImagesPerSecond >= row.trainImagesPerSecond ? kept : row), samples });
  }
  return [...best.values()];
}

/**
 * Everything `npm run bench -- train` measures, in one run. Other work on a shared machine comes
 * and goes within seconds, so project and PyTorch are measured in alternating rounds and each keeps
 * its best round (the least disturbed one, as timeit does).
 */
export async function runTrainSuite(options: TrainSuiteOptions): Promise<TrainSuiteResult> {
  const load: Record<string, number> = { start: loadavg()[0] };
  const cpus: Record<string, CpuLoopMs> = { start: cpuLoopMs() };
  const archs = (options.archs ?? Object.keys(architectures)).map((arch) => ({ arch, inputSize: architectures[arch].defaultInputSize }));
  const projectRounds: TrainBenchRow[][] = [], torchRounds: TorchRow[][] = [];
  let skipped: SkippedBackend[] = [], pytorchSkipped: string | undefined = options.torch ? undefined : 'not requested (--no-pytorch)';
  for (let round = 1; round <= options.rounds; round++) {
    options.log?.(`round ${round} of ${options.rounds}`);
    const project = await runTrainBench(options);
    projectRounds.push(project.rows);
    skipped = project.skipped;
    load[`round${round}Project`] = loadavg()[0];
    if (!pytorchSkipped) {
      const torch = await runTorchBaseline({ archs, batch: options.batch, steps: options.steps, warmupSeconds: options.warmupSeconds, log: options.log });
      if ('skipped' in torch) pytorchSkipped = torch.skipped;
      else torchRounds.push(torch.rows);
      load[`round${round}Pytorch`] = loadavg()[0];
    }
    cpus[`round${round}`] = cpuLoopMs();
  }
  const rows = bestOf(projectRounds, (r) => `${r.arch} ${r.backend} ${r.workers}`);
  const pytorch = bestOf(torchRounds, (r) => `${r.arch} ${r.threads}`);
  const epoch = options.epochData ? await runEpochBench(options.epochData, options.log) : { skipped: 'not requested (--no-epoch)' };
  load.afterEpoch = loadavg()[0];
  return {
    results: rows, pytorch, ratios: ratios(rows, pytorch), skipped,
    ...(pytorchSkipped ? { pytorchSkipped } : {}),
    ...('skipped' in epoch ? { epochSkipped: epoch.skipped } : { epoch }),
    machine: { cores: availableParallelism(), load, cpuLoopMs: cpus }, rounds: options.rounds, warmupSeconds: options.warmupSeconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
}

function table(head: string[], body: string[][], leftColumns: number): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const f1 = (v: number) => v.toFixed(1);

/** The suite as text tables. */
export function formatTrainSuite(r: TrainSuiteResult, batch: number): string {
  const load = Object.entries(r.machine.load).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
  const parts = [
    `Training throughput, random inputs, batch ${batch}, steady state (after ${r.warmupSeconds} s of warm-up steps), best of ${r.rounds} interleaved rounds`,
    `(${r.machine.cores} cores; 1-minute load average: ${load})`,
    ...Object.entries(r.machine.cpuLoopMs ?? {}).map(([when, loop]) => `(${when}: ${formatCpuLoop(loop)})`),
  ];
  const figures = (x: TrainBenchRow | TorchRow) =>
    [f1(x.trainImagesPerSecond), x.warmupImagesPerSecond ? f1(x.warmupImagesPerSecond) : '-', f1(x.inferImagesPerSecond), f1(x.trainImagesPerCpuSecond)];
  const rows = [
    ...r.results.map((x) => [x.arch, `${x.inputSize}x${x.inputSize}`, x.kernels ? `${x.backend} (${x.kernels})` : x.backend, String(x.workers), ...figures(x)]),
    ...r.pytorch.map((x) => [x.arch, `${x.inputSize}x${x.inputSize}`, x.backend, `${x.threads} thr`, ...figures(x)]),
  ];
  parts.push(table(['arch', 'input', 'backend', 'workers', 'train img/s', 'warm-up img/s', 'infer img/s', 'train img/cpu-s'], rows, 3));
  if (r.pytorch.length) {
    parts.push(r.pytorch.every((x) => x.freedMemoryKept)
      ? "PyTorch's rows: glibc malloc keeps freed memory (torch-bench.py), so every run is PyTorch's fast one, as with jemalloc or tcmalloc"
      : "PyTorch's rows: the allocator was left as it is (glibc's mallopt not available or --glibc-default), so some of PyTorch's runs may be its slow ones");
  }
  for (const s of r.skipped) parts.push(`skipped ${s.backend}: ${s.reason}`);
  if (r.pytorchSkipped) parts.push(`PyTorch baseline skipped: ${r.pytorchSkipped}`);
  if (r.ratios.length) {
    parts.push(`\nTraining, project (wasm, default ${defaultWorkers('wasm')} workers) / PyTorch (its best thread count)`);
    parts.push(table(['arch', 'project', 'pytorch', 'ratio', 'target', 'best workers here (ratio)', 'ratio per cpu-s', 'ratio per round'], r.ratios.map((x) => [
      x.arch, f1(x.project), f1(x.pytorch), x.ratio.toFixed(2), x.target ? `>= ${x.target.toFixed(1)} ${x.ratio >= x.target ? 'met' : 'NOT met'}` : '-',
      `${x.bestWorkers} (${(x.best / x.pytorch).toFixed(2)})`, x.cpuRatio.toFixed(2), x.roundRatios.map((v) => v.toFixed(2)).join(' '),
    ]), 1));
  }
  if (r.epoch) {
    const e = r.epoch;
    parts.push(`\nOne epoch of \`npm run train\` (default flags: ${e.arch} on ${e.backend}) over ${e.data}, pixel cache warm`);
    parts.push(table(['train/val images', 'load s', 'epoch s', 'img/s', 'whole run s', 'peak RSS MB'], [[
      `${e.trainImages}/${e.validationImages}`, f1(e.loadMs / 1000), f1(e.epochMs / 1000), f1(e.epochImagesPerSecond), f1(e.totalMs / 1000), e.peakRssMB.toFixed(0),
    ]], 1));
  } else if (r.epochSkipped) {
    parts.push(`epoch timing skipped: ${r.epochSkipped}`);
  }
  parts.push(`peak RSS of the bench process: ${r.peakRssMB.toFixed(0)} MB`);
  return parts.join('\n');
}
