import { Command } from 'commander';
import { choiceFlag, intFlag, numberFlag } from '../trainer/cli-options.ts';
import { exitWithError } from '../trainer/errors.ts';
import { architectures } from '../trainer/training/architectures.ts';
import { defaultEpochData } from './train/epoch.ts';

// Every benchmark behind one command (`npm run bench -- [train|classify|ab|all]`); the profilers
// (train/kernel-profile.ts) run on their own with tsx.
const verbose = process.argv.includes('--verbose');

/** A comma-separated list whose items must each be one of `choices`. */
function listFlag(flag: string, choices: string[]) {
  return (value: string): string[] => value.split(',').map((v) => choiceFlag(flag, choices)(v.trim()));
}

const program = new Command('cellsense-bench')
  .showHelpAfterError('(run with --help for usage)')
  .description('measure throughput: train (images/s per architecture and backend, PyTorch alongside, one full epoch) and classify (Worker latency)')
  .argument('[which]', 'train, classify, ab (two versions live and a shadow vs one) or all (train and classify)', 'all')
  .option('--json', 'print one JSON object on stdout instead of tables', false)
  .option('--batch <n>', 'images per step for the train bench', intFlag('batch', 1, 1024), 32)
  .option('--steps <n>', 'measured steps per row of the train bench', intFlag('steps', 1, 1000), 10)
  .option('--warmup <seconds>', 'seconds of training steps per row before the measured ones (two replicas settle in ~2.5 s)', numberFlag('warmup', 0, 600), 3)
  .option('--rounds <n>', 'alternating rounds of project and PyTorch measurements; each figure is its best round', intFlag('rounds', 1, 20), 3)
  .option('--archs <list>', `architectures for the train bench, comma-separated (default: ${Object.keys(architectures).join(',')})`, listFlag('archs', Object.keys(architectures)))
  .option('--backends <list>', 'backends for the train bench, comma-separated: wasm, tensorflow, cpu (default: every one that loads, but cpu)', listFlag('backends', ['wasm', 'tensorflow', 'cpu']))
  .option('--workers <list>', 'replica counts to measure on wasm, comma-separated (default: the training default, and 1)', (v: string) => v.split(',').map(intFlag('workers', 1, 64)))
  .option('--no-pytorch', 'skip the PyTorch baseline')
  .option('--data <dir>', 'folder for the one-epoch timing of `npm run train`', defaultEpochData)
  .option('--no-epoch', 'skip the one-epoch timing')
  .option('--verbose', 'print stack traces of errors', false)
  .action(async (which: string, o) => {
    const parts = which === 'all' ? ['train', 'classify'] : [choiceFlag('bench', ['train', 'classify', 'ab'] as const)(which)];
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const result: Record<string, unknown> = {};
    if (parts.includes('train')) {
      const { runTrainSuite, formatTrainSuite } = await import('./train/suite.ts');
      const suite = await runTrainSuite({
        batch: o.batch, steps: o.steps, warmupSeconds: o.warmup, rounds: o.rounds, archs: o.archs, backends: o.backends, workers: o.workers, torch: o.pytorch,
        epochData: o.epoch ? o.data : null, log,
      });
      Object.assign(result, suite);
      if (!o.json) process.stdout.write(`\n${formatTrainSuite(suite, o.batch)}\n`);
    }
    if (parts.includes('classify')) {
      const { runClassifyBench } = await import('./worker/classify.ts');
      result.classify = await runClassifyBench({ json: o.json, log });
    }
    if (parts.includes('ab')) {
      const { runAbBench } = await import('./worker/ab.ts');
      result.ab = await runAbBench({ json: o.json, log });
    }
    if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  });

program.parseAsync(process.argv).catch((err: Error) => exitWithError(err, verbose));
