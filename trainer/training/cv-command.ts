import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crossValidateFolds, summarizeFolds, type CrossValidateOptions, type FoldResult } from './cross-validate.ts';
import { UserError } from '../errors.ts';
import { architectures } from './architectures.ts';
import { loadGrouped } from '../data/grouped-dataset.ts';
import type { Reporter } from '../progress.ts';

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const pm = (s: { mean: number; std: number }, f = pct) => `${f(s.mean)} ± ${f(s.std)}`;

/**
 * Runs the folds `jobs` at a time. tfjs's WASM backend is single-threaded, so on an n-core
 * machine n folds in n processes finish about n times sooner; each child runs the same command
 * on its share of the folds and hands its results back in a file.
 */
export async function runFolds(options: CrossValidateOptions, jobs: number, reporter: Reporter): Promise<FoldResult[]> {
  if (jobs <= 1) return crossValidateFolds(options, reporter);
  // Decoding and content grouping once here, into the cache the fold processes then read,
  // instead of once in every child at the same time.
  await loadGrouped(options, options.inputSize ?? architectures[options.arch]?.defaultInputSize ?? 64, reporter);
  const dir = await mkdtemp(path.join(tmpdir(), 'cellsense-cv-'));
  try {
    const shares = Array.from({ length: jobs }, (_, j) => [...Array(options.folds).keys()].filter((f) => f % jobs === j)).filter((s) => s.length);
    // Folds already fill the cores: each child trains on one thread unless told otherwise.
    const args = stripFlags(process.argv.slice(2), ['--jobs', '--json-out', '--only', '--fold-results']).filter((a) => a !== '--json');
    if (options.workers === undefined) args.push('--workers', '1');
    await Promise.all(shares.map((share, j) => new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...args, '--quiet', '--only', share.join(','), '--fold-results', path.join(dir, `${j}.json`)], { stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new UserError(`cross-validation folds ${share.map((f) => f + 1).join(', ')} failed (exit ${code}); see the messages above`))));
    })));
    const results: FoldResult[] = [];
    for (let j = 0; j < shares.length; j++) results.push(...JSON.parse(await readFile(path.join(dir, `${j}.json`), 'utf8')) as FoldResult[]);
    return results.sort((a, b) => a.fold - b.fold);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** argv without the named flags and their values. */
function stripFlags(argv: string[], flags: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [name] = argv[i].split('=');
    if (flags.includes(name)) {
      if (!argv[i].includes('=')) i++;
      continue;
    }
    out.push(argv[i]);
  }
  return out;
}

export async function writeFoldResults(file: string, results: FoldResult[]): Promise<void> {
  await writeFile(file, JSON.stringify(results));
}

/** The cross-validation summary as tables. */
export function formatCrossValidation(summary: ReturnType<typeof summarizeFolds>): string {
  const lines = [...(summary.grouping ? [`folds grouped by ${summary.grouping}`] : []), 'fold   images  groups  accuracy  macro-F1    ECE'];
  for (const r of summary.rows) {
    lines.push(`${String(r.fold).padStart(4)}  ${String(r.validationImages).padStart(7)}  ${String(r.groups).padStart(6)}  ${pct(r.accuracy).padStart(8)}  ${r.macroF1.toFixed(3).padStart(8)}  ${r.ece.toFixed(3).padStart(6)}`);
  }
  lines.push(
    '',
    `accuracy ${pm(summary.accuracy)}   macro-F1 ${pm(summary.macroF1, (v) => v.toFixed(3))}   ECE ${pm(summary.ece, (v) => v.toFixed(3))}`,
    // Per image, a photo with many copies weighs as much as they number; this line weighs it once.
    ...(summary.photoAccuracy ? [`each source photo counted once (its copies averaged): accuracy ${pm(summary.photoAccuracy)}`] : []),
    `review threshold (fitted without the held-out fold): coverage ${pm(summary.coverage)}, accuracy above it ${pm(summary.accuracyAboveThreshold)}`,
    ...(summary.outOfFoldCalibration ? [outOfFoldLine(summary.outOfFoldCalibration)] : []),
    '',
    'class            precision          recall              F1',
  );
  for (const [c, m] of Object.entries(summary.perClass)) {
    lines.push(`${c.padEnd(14)} ${pm(m.precision).padStart(15)} ${pm(m.recall).padStart(15)} ${pm(m.f1, (v) => v.toFixed(3)).padStart(15)}`);
  }
  return lines.join('\n');
}

function outOfFoldLine(c: NonNullable<ReturnType<typeof summarizeFolds>['outOfFoldCalibration']>): string {
  const line = `fitted on all ${c.images} out-of-fold predictions: temperature ${c.temperature}, ECE ${c.eceBefore.toFixed(3)} -> ${c.eceAfter.toFixed(3)}; review below ${c.threshold.toFixed(3)}: ${pct(c.coverage)} of cells kept, ${pct(c.accuracyAboveThreshold)} of them right${c.met ? '' : ' (a target of --target-accuracy or --min-coverage not met)'}`;
  const right = (c.perFold ?? []).flatMap((f) => (f.accuracyAboveThreshold === null ? [] : [f.accuracyAboveThreshold]));
  if (!c.perFold || c.threshold >= 1 || right.length === 0) return line;
  const kept = c.perFold.map((f) => f.coverage);
  // One model is one fold: the spread says how far a single model may read from the pooled figure.
  return `${line}
each fold's held-out cells under that policy: ${pct(Math.min(...kept))} to ${pct(Math.max(...kept))} kept, ${pct(Math.min(...right))} to ${pct(Math.max(...right))} of them right`;
}

export { summarizeFolds };
