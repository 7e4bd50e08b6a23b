import { Command, Option } from 'commander';
import { backendChoices } from './backend.ts';
import {
  choiceFlag, defaultCacheDir, defaultDataDir, defaultModelsDir, defaultVersion, intFlag, numberFlag, quantizeFlag, regexFlag, versionFlag,
} from './cli-options.ts';
import { UserError } from './errors.ts';
import { defaultModelDir, evaluate } from './evaluate.ts';
import { formatEvaluation } from './evaluation.ts';
import { architectures, DEFAULT_ARCH } from './models.ts';
import { progressMode, Reporter } from './progress.ts';
import { train } from './train.ts';

let verbose = process.argv.includes('--verbose');

const program = new Command('cellsense')
  .description('Train, evaluate and benchmark image classifiers for the cellsense edge Worker')
  .showHelpAfterError('(run with --help for usage)');

program
  .command('train')
  .description('train a CNN on a folder with one sub-folder per class and write an evaluated, quantised model version')
  .option('--data <dir>', 'dataset folder: one sub-folder of JPEG/PNG/WebP images per class', defaultDataDir)
  .option('--out <dir>', 'folder the model version is written into', 'models')
  .option('--version <name>', 'version name (default: date and a short hash)')
  .option('--epochs <n>', 'maximum epochs (early stopping may end sooner)', intFlag('epochs', 1, 10000), 30)
  .option('--seed <n>', 'random seed: split, initial weights, shuffling, augmentation', intFlag('seed', 0), 42)
  .addOption(new Option('--arch <name>', Object.entries(architectures).map(([k, a]) => `${k}: ${a.description}`).join('; ')).default(DEFAULT_ARCH).argParser(choiceFlag('arch', Object.keys(architectures))))
  .option('--input-size <n>', 'model input side in pixels (default: the architecture\'s)', intFlag('input-size', 16, 512))
  .option('--quantize <dtype>', 'weight storage: uint8, uint16, float16 or none', quantizeFlag, 'uint8')
  .option('--backend <name>', 'auto (tfjs-node if installed, else wasm), wasm, node or cpu', choiceFlag('backend', backendChoices), 'auto')
  .option('--resume', 'continue an interrupted run of the same command from its last completed epoch', false)
  .addOption(new Option('--crop <mode>', 'full: whole photo; stain: square window centred on the stained cell').choices(['full', 'stain']).default('full'))
  .option('--group-pattern <regex>', 'group near-duplicates by file name (first capture group), e.g. "^_(\\d+)_"; default: by image similarity', regexFlag)
  .option('--group-threshold <d>', 'similarity distance under which two images count as copies of one photo', numberFlag('group-threshold', 0, 10), 0.05)
  .option('--validation <fraction>', 'share of each class held out for validation, by whole groups', numberFlag('validation', 0.05, 0.5), 0.2)
  .option('--batch-size <n>', 'images per training step', intFlag('batch-size', 1, 1024), 32)
  .option('--learning-rate <lr>', 'Adam learning rate', numberFlag('learning-rate', 1e-6, 1), 0.002)
  .option('--patience <n>', 'stop after this many epochs without a better validation loss', intFlag('patience', 1, 1000), 5)
  .option('--no-augment', 'turn off flips, 90-degree turns and colour/brightness jitter')
  .option('--allow-quant-drop', 'keep the version even if quantising costs more than 1 point of accuracy', false)
  .option('--cache-dir <dir>', 'where decoded, resized pixels are cached', defaultCacheDir)
  .option('--quiet', 'print only errors and the final summary', false)
  .option('--verbose', 'print stack traces of errors', false)
  .action(async (o) => {
    const reporter = new Reporter(progressMode(o.quiet));
    let stopRequested = false;
    process.on('SIGINT', () => {
      if (stopRequested) process.exit(130);
      stopRequested = true;
      reporter.summary('stopping after this batch (Ctrl-C again to quit at once)');
    });
    reporter.setEpochs(o.epochs);
    const started = Date.now();
    const manifest = await train(
      {
        data: o.data, out: o.out, version: o.version ? versionFlag(o.version) : defaultVersion(), epochs: o.epochs, seed: o.seed,
        arch: o.arch, inputSize: o.inputSize, quantize: o.quantize, backend: o.backend, resume: o.resume, crop: o.crop,
        groupPattern: o.groupPattern, groupThreshold: o.groupThreshold, validationFraction: o.validation, batchSize: o.batchSize,
        learningRate: o.learningRate, patience: o.patience, augment: o.augment, allowQuantDrop: o.allowQuantDrop,
        cacheDir: o.cacheDir, command: ['npm run train --', ...process.argv.slice(3)].join(' '), shouldStop: () => stopRequested,
      },
      reporter,
    );
    const v = manifest.metrics.validation;
    const size = manifest.files.filter((f) => f.path !== 'report.html').reduce((n, f) => n + f.bytes, 0);
    reporter.summary(
      [
        `model ${manifest.version} written to ${o.out}/${manifest.version} (${(size / 1024).toFixed(0)} KiB, ${manifest.quantization.dtype}) in ${((Date.now() - started) / 1000).toFixed(0)} s`,
        `validation (${manifest.metrics.split.validationImages} images, ${manifest.metrics.split.method}-grouped): accuracy float ${(100 * v.accuracyFloat).toFixed(1)}%, quantised ${(100 * v.accuracyQuantized).toFixed(1)}%, macro-F1 ${v.macroF1.toFixed(3)}`,
        `epochs run ${manifest.training.epochsRun}, best ${manifest.training.bestEpoch}; skipped files ${manifest.training.imagesSkipped}; report: ${o.out}/${manifest.version}/report.html`,
      ].join('\n'),
    );
  });

program
  .command('evaluate')
  .description('score a model version on a labelled folder: accuracy, macro-F1, per class, confusion matrix')
  .option('--model <dir>', 'model version folder (default: the repository\'s default model under models/)')
  .option('--data <dir>', 'folder with one sub-folder of images per class', defaultDataDir)
  .option('--json', 'print one JSON object on stdout instead of tables', false)
  .option('--backend <name>', 'auto, wasm, node or cpu', choiceFlag('backend', backendChoices), 'auto')
  .option('--cache-dir <dir>', 'where decoded, resized pixels are cached', defaultCacheDir)
  .option('--verbose', 'print stack traces of errors', false)
  .action(async (o) => {
    const reporter = new Reporter(progressMode(o.json));
    const model = o.model ?? (await defaultModelDir(defaultModelsDir));
    const ev = await evaluate({ model, data: o.data, backend: o.backend, cacheDir: o.cacheDir }, reporter);
    const { classes, accuracy, macroF1, perClass, confusion } = ev;
    process.stdout.write(o.json ? `${JSON.stringify({ classes, accuracy, macroF1, perClass, confusion })}\n` : `model ${model}\n${formatEvaluation(ev)}\n`);
  });

program
  .command('bench')
  .description('measure throughput: train (images/s per architecture and backend) and classify (Worker latency)')
  .argument('[which]', 'train, classify or all', 'all')
  .option('--json', 'print one JSON object on stdout instead of tables', false)
  .option('--batch <n>', 'images per step for the train bench', intFlag('batch', 1, 1024), 32)
  .option('--steps <n>', 'measured steps per row of the train bench', intFlag('steps', 1, 1000), 10)
  .option('--verbose', 'print stack traces of errors', false)
  .action(async (which: string, o) => {
    const parts = which === 'all' ? ['train', 'classify'] : [choiceFlag('bench', ['train', 'classify'] as const)(which)];
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const result: Record<string, unknown> = {};
    if (parts.includes('train')) {
      const { runTrainBench, formatTrainBench } = await import('./bench/train-bench.ts');
      const rows = await runTrainBench({ batch: o.batch, steps: o.steps, log });
      result.results = rows;
      if (!o.json) process.stdout.write(`\nTraining throughput (random inputs, batch ${o.batch}, steady state)\n${formatTrainBench(rows)}\n`);
    }
    if (parts.includes('classify')) {
      const { runClassifyBench } = await import('../worker/scripts/bench-classify.ts');
      result.classify = await runClassifyBench({ json: o.json, log });
    }
    if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  });

program.parseAsync(process.argv).catch((err: Error) => {
  if (err instanceof UserError) {
    process.stderr.write(`error: ${err.message}\n`);
    if (verbose) process.stderr.write(`${err.stack}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(verbose ? `${err.stack}\n` : `internal error: ${err.message} (run with --verbose for the stack trace)\n`);
  process.exit(1);
});
