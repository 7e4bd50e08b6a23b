import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { backendChoices } from './training/backend.ts';
import { choiceFlag, defaultCacheDir, defaultDataDir, defaultVersion, intFlag, numberFlag, outputFileFlag, versionFlag } from './cli-options.ts';
import { crossValidateFolds } from './training/cross-validate.ts';
import { formatCrossValidation, runFolds, summarizeFolds, writeFoldResults } from './training/cv-command.ts';
import { exitWithError } from './errors.ts';
import { evaluate, writePredictions } from './evaluation/evaluate-version.ts';
import { defaultModelDir } from './export/model-folder.ts';
import { formatEvaluation } from './evaluation/score.ts';
import { DEFAULT_GROUP_THRESHOLD } from './grouping/content.ts';
import { formatGroups, runGroups } from './grouping/groups-command.ts';
import { progressMode, Reporter } from './progress.ts';
import { addRecipeFlags, readCrossValidation, recipeFrom } from './training/recipe.ts';
import { formatReview } from './evaluation/review-summary.ts';
import { keptEpoch } from './report/format.ts';
import { recordedCommand } from './shell-quote.ts';
import { train } from './training/train.ts';
import type { Manifest } from '../shared/index.ts';

const verbose = process.argv.includes('--verbose');

function calibrationLine(m: Manifest, targetAccuracy: number, minCoverage: number): string {
  const c = m.metrics.calibration, p = m.inference;
  if (!c || !p) return '';
  const source = c.source === 'out-of-fold' ? ' (fitted on the cross-validation\'s out-of-fold predictions)' : '';
  if (p.reviewThreshold >= 1) return `calibration${source}: temperature ${p.temperature}; no threshold reaches ${(100 * targetAccuracy).toFixed(0)}% accuracy, so every answer is flagged for review`;
  const missed = [
    c.accuracyAboveThreshold < targetAccuracy ? `accuracy target ${(100 * targetAccuracy).toFixed(0)}%` : '',
    c.coverage < minCoverage ? `coverage target ${(100 * minCoverage).toFixed(0)}%` : '',
  ].filter(Boolean);
  return `calibration${source}: temperature ${p.temperature}, ECE ${c.eceBefore.toFixed(3)} -> ${c.eceAfter.toFixed(3)}; review below ${p.reviewThreshold.toFixed(3)}: ${(100 * c.coverage).toFixed(1)}% of cells kept, ${(100 * c.accuracyAboveThreshold).toFixed(1)}% of them correct${missed.length ? ` (not met: ${missed.join(', ')})` : ''}`;
}

// The policy was fitted on the fold models; this says whether it holds for the model written.
function servedValidationLine(m: Manifest): string {
  const s = m.metrics.calibration?.servedValidation;
  if (!s || (m.inference?.reviewThreshold ?? 1) >= 1) return '';
  const right = s.accuracyAboveThreshold === null ? 'none answered without review' : `${(100 * s.accuracyAboveThreshold).toFixed(1)}% of them correct`;
  const raised = s.raisedFrom === undefined ? '' : ` (threshold raised from ${s.raisedFrom.toFixed(3)}: this split needed it to reach the accuracy target)`;
  return `this model under that policy, on its validation split: ${(100 * s.coverage).toFixed(1)}% of cells kept, ${right}${raised}`;
}

const program = new Command('cellsense')
  .description('Train and evaluate image classifiers for the cellsense edge Worker')
  .showHelpAfterError('(run with --help for usage)');

addRecipeFlags(program
  .command('train')
  .description('train a CNN on a folder with one sub-folder per class and write an evaluated, quantised model version'))
  .option('--out <dir>', 'folder the model version is written into', 'models')
  .option('--version <name>', 'version name (default: date and a short hash)')
  .option('--name <name>', "model name in the manifest and in classify responses (default: the data folder's name)")
  .option('--resume', 'continue an interrupted run of the same command from its last completed epoch', false)
  .option('--allow-quant-drop', 'keep the version even if quantising costs more than 1 point (and more than one image) of validation accuracy', false)
  .option('--cv-results <file>', 'JSON written by `npm run cv -- --json-out FILE` for this recipe, shown in the manifest and report')
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
        ...recipeFrom(o), out: o.out, version: o.version ? versionFlag(o.version) : defaultVersion(), name: o.name, resume: o.resume,
        allowQuantDrop: o.allowQuantDrop, crossValidation: o.cvResults ? await readCrossValidation(o.cvResults) : undefined,
        // A wrapper (train:flagship) records the command its user typed instead of its child's.
        command: process.env.CELLSENSE_RECORDED_COMMAND || recordedCommand('npm run train --', process.argv.slice(3)), shouldStop: () => stopRequested,
      },
      reporter,
    );
    const v = manifest.metrics.validation;
    const size = manifest.files.filter((f) => f.path !== 'report.html').reduce((n, f) => n + f.bytes, 0);
    reporter.summary(
      [
        `model ${manifest.version} written to ${o.out}/${manifest.version} (${(size / 1024).toFixed(0)} KiB, ${manifest.quantization.dtype}) in ${((Date.now() - started) / 1000).toFixed(0)} s`,
        `validation (${manifest.metrics.split.validationImages} images, ${manifest.metrics.split.method}-grouped): accuracy float ${(100 * v.accuracyFloat).toFixed(1)}%, quantised ${(100 * v.accuracyQuantized).toFixed(1)}%, macro-F1 ${v.macroF1.toFixed(3)}`,
        calibrationLine(manifest, o.targetAccuracy, o.minCoverage),
        servedValidationLine(manifest),
        `epochs run ${manifest.training.epochsRun}, ${keptEpoch(manifest.training)}; skipped files ${manifest.training.imagesSkipped}; report: ${o.out}/${manifest.version}/report.html`,
      ].filter(Boolean).join('\n'),
    );
  });

addRecipeFlags(program
  .command('cv')
  .description('grouped, stratified k-fold cross-validation of a training recipe: accuracy, macro-F1, ECE and review coverage per fold, mean and spread'))
  .option('--folds <k>', 'number of folds (whole source groups per fold)', intFlag('folds', 2, 50), 5)
  .option('--jobs <n>', 'folds trained at once, one process each (default: one per CPU core)', intFlag('jobs', 1, 64), Math.max(1, Math.min(availableParallelism(), 8)))
  .option('--json', 'print one JSON object on stdout instead of tables', false)
  .option('--json-out <file>', 'also write the summary as JSON, for `npm run train -- --cv-results FILE`')
  .addOption(new Option('--only <folds>', 'run only these 0-based folds (used by --jobs)').hideHelp())
  .addOption(new Option('--fold-results <file>', 'write raw fold results here (used by --jobs)').hideHelp())
  .action(async (o) => {
    const reporter = new Reporter(progressMode(o.quiet || o.json));
    let stopRequested = false;
    process.on('SIGINT', () => {
      stopRequested = true;
    });
    reporter.setEpochs(o.epochs);
    const options = {
      ...recipeFrom(o), folds: o.folds, only: o.only ? String(o.only).split(',').map(Number) : undefined,
      command: process.env.CELLSENSE_RECORDED_COMMAND || recordedCommand('npm run cv --', process.argv.slice(3)), shouldStop: () => stopRequested,
    };
    if (o.foldResults) {
      await writeFoldResults(o.foldResults, await crossValidateFolds(options, reporter));
      return;
    }
    const summary = summarizeFolds(await runFolds(options, o.jobs, reporter), options.command, { tta: o.tta, targetAccuracy: o.targetAccuracy, minCoverage: o.minCoverage });
    if (o.jsonOut) await writeFile(o.jsonOut, `${JSON.stringify(summary, null, 2)}\n`);
    // The predictions themselves go to --json-out (for train --cv-results), not to the screen.
    const { outOfFold: _, ...shown } = summary;
    process.stdout.write(o.json ? `${JSON.stringify(shown)}\n` : `\n${o.folds}-fold grouped cross-validation\n${formatCrossValidation(summary)}\n`);
  });

program
  .command('evaluate')
  .description('score a model version on a labelled folder: accuracy, macro-F1, per class, confusion matrix, calibration (ECE) and the review flag')
  .option('--model <dir>', 'model version folder (default: the repository\'s default model under models/)')
  .option('--data <dir>', 'folder with one sub-folder of images per class', defaultDataDir)
  .option('--json', 'print one JSON object on stdout instead of tables', false)
  .option('--predictions <file>', 'also write one CSV row per image: path, label, predicted, confidence, review, then each class\'s probability', outputFileFlag('predictions', 'predictions.csv'))
  .option('--backend <name>', 'auto, wasm, node or cpu', choiceFlag('backend', backendChoices), 'auto')
  .option('--cache-dir <dir>', 'where decoded, resized pixels are cached', defaultCacheDir)
  .option('--verbose', 'print stack traces of errors', false)
  .action(async (o) => {
    const reporter = new Reporter(progressMode(o.json));
    const model = o.model ?? defaultModelDir();
    const result = await evaluate({ model, data: o.data, backend: o.backend, cacheDir: o.cacheDir }, reporter);
    const { evaluation: ev, ece, review, outOfDomain } = result;
    if (o.predictions) await writePredictions(o.predictions, ev.classes, result);
    const { classes, accuracy, macroF1, perClass, confusion } = ev;
    process.stdout.write(
      o.json
        ? `${JSON.stringify({ classes, accuracy, macroF1, perClass, confusion, ece, review, outOfDomain })}\n`
        : `model ${model}\n${formatEvaluation(ev)}\n\n${formatReview(ece, review, ev)}\n${outOfDomain === null ? 'no domain profile in this version' : `out of domain: ${(100 * outOfDomain).toFixed(1)}% of the images (flagged by the Worker whatever their confidence)`}\n`,
    );
  });

program
  .command('groups')
  .description('find the source photos of a dataset from the pixels (copies of one photo, turned, flipped, shifted or zoomed) and show the groups per class')
  .option('--data <dir>', 'folder with one sub-folder of images per class', defaultDataDir)
  .option('--json', 'print one JSON object on stdout: {"method", "threshold", "classes": {NAME: {"images", "groups", "sizes"}}}', false)
  .option('--sheet <file.html>', 'also write a contact sheet: a few members of every group, and the closest pairs left apart', outputFileFlag('sheet', 'groups.html'))
  .option('--group-threshold <d>', 'distance under which clusters of images count as one photo', numberFlag('group-threshold', 0, 10), DEFAULT_GROUP_THRESHOLD)
  .option('--cache-dir <dir>', 'where decoded pixels and groupings are cached', defaultCacheDir)
  .option('--verbose', 'print stack traces of errors', false)
  .action(async (o) => {
    const summary = await runGroups({ data: o.data, threshold: o.groupThreshold, cacheDir: o.cacheDir, sheet: o.sheet }, new Reporter(progressMode(o.json)));
    process.stdout.write(o.json ? `${JSON.stringify(summary)}\n` : `${formatGroups(summary)}\n`);
  });

program.parseAsync(process.argv).catch((err: Error) => exitWithError(err, verbose));
