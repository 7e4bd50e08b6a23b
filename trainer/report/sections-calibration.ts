import { coverageChart } from './charts/coverage-chart.ts';
import { html, raw, type Raw } from './escape.ts';
import * as f from './format.ts';
import { reliabilityDiagram } from './charts/reliability-diagram.ts';
import { foldEce } from './sections-cross-validation.ts';
import type { CalibrationReport, CoveragePoint, ReportData } from './types.ts';

const BEFORE = '#94a3b8';
const AFTER = '#2563eb';

function temperatureMeaning(t: number): string {
  if (t > 1) return 'Above 1: the model was overconfident, so its probabilities are softened.';
  if (t < 1) return 'Below 1: the model was underconfident, so its probabilities are sharpened.';
  return 'Exactly 1: the probabilities are used as the model gives them.';
}

function ttaText(c: CalibrationReport): [string, string] {
  return c.tta === 'dihedral8'
    ? ['8 views', 'each cell is classified in its 8 flips and 90° rotations and the probabilities averaged, here and in the Worker']
    : ['Off', 'each cell is classified once, as photographed'];
}

/** The served model under the fitted policy on its own validation split, when it was measured. */
function servedCheck(c: CalibrationReport): string {
  const s = c.servedValidation;
  if (!s) return '';
  const right = s.accuracyAboveThreshold === null ? 'none are answered without review' : `${f.percent(s.accuracyAboveThreshold)} of those are right`;
  const raised = s.raisedFrom === undefined ? '' : ` (the out-of-fold threshold, ${s.raisedFrom.toFixed(3)}, was raised to ${c.threshold.toFixed(3)} because this split needed it to reach ${f.percent(c.targetAccuracy, 0)})`;
  return `: on its own validation split (${f.count(s.images)} cells) the threshold keeps ${f.percent(s.coverage)}, and ${right}${raised}`;
}

/** Why the after-figures flatter the model, and where the out-of-fold check is (if anywhere). */
function inSampleNote(d: ReportData, c: CalibrationReport): Raw {
  const cells = c.binsAfter.reduce((s, b) => s + b.count, 0);
  if (c.source === 'out-of-fold') {
    return html`<div class="note" id="calibration-caveat"><p><strong>Fitted on out-of-fold predictions.</strong> The temperature and the review threshold were fitted on all ${f.count(cells)} images of the cross-validation, each predicted by a fold model that never saw its source photo, and these diagrams are drawn from the same predictions: two fitted numbers on thousands of cells, so the figures after calibration are only slightly optimistic. The model served is trained like the fold models but is not one of them${servedCheck(c)}.</p></div>`;
  }
  const cv = d.crossValidation;
  const check = cv
    ? html`The <a href="#cross-validation">cross-validation</a> below measures ECE on each of its ${cv.folds} folds' held-out images, with a temperature fitted without them (mean ${f.score(foldEce(cv).mean)}): that is the out-of-fold check.`
    : html`This run was not cross-validated, so there is no out-of-fold check of these figures.`;
  return html`<div class="note" id="calibration-caveat"><p><strong>Fitted and scored on the same cells.</strong> The temperature was fitted on the ${f.count(cells)} validation cells these diagrams are drawn from, so the ECE after calibration is an in-sample figure and somewhat optimistic. ${check}</p></div>`;
}

/** Temperature, test-time augmentation, ECE before and after, and the reliability diagrams. */
export function calibrationSection(d: ReportData): Raw {
  const c = d.calibration;
  if (!c) return html``;
  const [tta, ttaDetail] = ttaText(c);
  const binRow = (i: number) => {
    const [b, a] = [c.binsBefore[i], c.binsAfter[i]];
    const figures = (x: typeof b) =>
      x.count ? html`<td>${f.count(x.count)}</td><td>${f.percent(x.confidence)}</td><td>${f.percent(x.accuracy)}</td>` : html`<td>0</td><td>–</td><td>–</td>`;
    return html`<tr><td>${f.percent(b.lower, 1)}–${f.percent(b.upper, 1)}</td>${figures(b)}${figures(a)}</tr>`;
  };
  const bins = c.binsBefore.length;
  return html`<section id="calibration" aria-labelledby="calibration-h">
<h2 id="calibration-h">Calibration</h2>
<p class="lead">A calibrated model's top probability reads as the chance it is right: of the cells it gives 90%, nine in ten are right. Temperature scaling divides the model's logits by one number, fitted to minimise the log-loss on ${c.source === 'out-of-fold' ? 'the cross-validation\'s out-of-fold predictions' : 'validation'}; it changes no prediction, only how sure each one is. <strong>ECE</strong> (expected calibration error) is the gap between confidence and accuracy over ${bins} equal-width bins of confidence, weighted by the cells in each: 0 is perfect.</p>
<div class="cards">
<div class="card"><div class="label">Temperature</div><div class="value">${c.temperature.toFixed(3)}</div><div class="detail">${temperatureMeaning(c.temperature)}</div></div>
<div class="card"><div class="label">ECE before (the model's own probabilities)</div><div class="value">${f.score(c.eceBefore)}</div><div class="detail">${bins} bins</div></div>
<div class="card"><div class="label">ECE after the temperature</div><div class="value">${f.score(c.eceAfter)}</div><div class="detail">${f.scoreDelta(c.eceAfter - c.eceBefore)} against before</div></div>
<div class="card"><div class="label">Test-time augmentation</div><div class="value">${tta}</div><div class="detail">${sentenceCase(ttaDetail)}</div></div>
</div>
<div class="charts">
<figure>${reliabilityDiagram(c.binsBefore, { heading: 'Before: own probabilities', ece: c.eceBefore, color: BEFORE })}
<figcaption>Before calibration. Bars below the diagonal are overconfident bins, above it underconfident ones; the number over each bin is its count of cells (hover a bar for its figures).</figcaption></figure>
<figure>${reliabilityDiagram(c.binsAfter, { heading: `After: temperature ${c.temperature.toFixed(3)}`, ece: c.eceAfter, color: AFTER })}
<figcaption>After dividing the logits by ${c.temperature.toFixed(3)}. The same cells; they move between bins as their confidence changes.</figcaption></figure>
</div>
${inSampleNote(d, c)}
<details><summary>Figures per bin</summary><div class="table-wrap"><table class="bins">
<caption class="visually-hidden">Cells, mean confidence and accuracy per confidence bin, before and after calibration</caption>
<thead><tr><th rowspan="2">Confidence bin</th><th class="group" colspan="3">Before</th><th class="group" colspan="3">After</th></tr>
<tr><th>Cells</th><th>Confidence</th><th>Accuracy</th><th>Cells</th><th>Confidence</th><th>Accuracy</th></tr></thead>
<tbody>${c.binsBefore.map((_, i) => binRow(i))}</tbody></table></div></details>
</section>`;
}

const sentenceCase = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}.`;

/** The curve's points nearest a few round coverages, plus the chosen one, lowest coverage first. */
export function coverageRows(c: CalibrationReport): (CoveragePoint & { chosen: boolean })[] {
  const levels = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 1];
  const picked = levels
    .map((level) => c.curve.find((p) => p.coverage >= level - 1e-9))
    .filter((p): p is CoveragePoint => p !== undefined);
  const chosen = c.curve.find((p) => Math.abs(p.coverage - c.coverage) < 1e-9 && Math.abs(p.accuracy - c.accuracyAboveThreshold) < 1e-9);
  const all = [...new Set([...picked, ...(chosen ? [chosen] : [])])].sort((a, b) => a.coverage - b.coverage);
  return all.map((p) => ({ ...p, chosen: p === chosen }));
}

/** The sentence a reader quotes: how many cells the model answers alone, and how well. */
export function doubtSentence(c: CalibrationReport): string {
  if (c.threshold === 1 && c.coverage === 0) {
    return `No threshold gives cells above it ${f.percent(c.targetAccuracy)} accuracy, so the threshold is 1: every answer is flagged for review.`;
  }
  if (c.threshold === 0) {
    return `At threshold 0, ${f.percent(c.coverage)} of cells are classified without review, with ${f.percent(c.accuracyAboveThreshold)} accuracy; none is flagged for review, since all cells together already reach the target accuracy.`;
  }
  return `At threshold ${f.threshold(c.threshold)}, ${f.percent(c.coverage)} of cells are classified without review, with ${f.percent(c.accuracyAboveThreshold)} accuracy; the rest (${f.percent(1 - c.coverage)}) are flagged for review.`;
}

function verdict(c: CalibrationReport): Raw {
  const targets = `at least ${f.percent(c.targetAccuracy)} accuracy on at least ${f.percent(c.minCoverage)} of cells`;
  if (c.met) return html`<div class="note ok" id="doubt-verdict"><p><strong>Targets met:</strong> ${targets}.</p></div>`;
  if (c.threshold === 1 && c.coverage === 0) {
    return html`<div class="warning" id="doubt-verdict" role="note"><p><strong>Targets not met.</strong> Not even the most confident cells reach ${f.percent(c.targetAccuracy)} accuracy, so every answer of this version is flagged for review. Improve the model (more data, more epochs, another recipe) before relying on its answers.</p></div>`;
  }
  const misses: string[] = [];
  if (c.accuracyAboveThreshold < c.targetAccuracy) {
    misses.push(`the cells above the threshold are ${f.percent(c.accuracyAboveThreshold)} right, below the target of ${f.percent(c.targetAccuracy)}`);
  }
  if (c.coverage < c.minCoverage) {
    misses.push(`only ${f.percent(c.coverage)} of cells are classified without review, below the minimum of ${f.percent(c.minCoverage)}`);
  }
  return html`<div class="warning" id="doubt-verdict" role="note"><p><strong>Targets not met.</strong> No threshold gives ${targets}: ${misses.join('; and ')}. Either more cells go to review than planned or more mistakes pass unreviewed; improve the model before relying on this threshold.</p></div>`;
}

/** The review threshold: the accuracy-coverage curve, the targets, and what the threshold gives. */
export function doubtSection(d: ReportData): Raw {
  const c = d.calibration;
  if (!c) return html``;
  const rows = coverageRows(c).map(
    (p) => html`<tr${raw(p.chosen ? ' class="best-row"' : '')}><td>${f.threshold(p.threshold)}${p.chosen ? ' (chosen)' : ''}</td><td>${f.percent(p.coverage)}</td><td>${f.percent(p.accuracy)}</td><td>${f.percent(1 - p.coverage)}</td></tr>`,
  );
  return html`<section id="doubt" aria-labelledby="doubt-h">
<h2 id="doubt-h">Doubt: cells flagged for review</h2>
<p class="lead">A cell whose top probability, after the temperature, is below the review threshold is answered with <code>review: true</code>, so a technician looks at it. A higher threshold flags more cells and lets fewer mistakes through. The threshold is the lowest whose cells above it reach the target accuracy, so the fewest cells go to review.</p>
<p class="verdict">${doubtSentence(c)}</p>
${verdict(c)}
<figure class="wide">${coverageChart(c)}
<figcaption>Each point is one possible threshold: the share of cells at or above it (x) and how many of those are right (y). Moving left raises the threshold. The target region is shaded; dashed lines mark the target accuracy and the minimum coverage.</figcaption></figure>
<p class="lead after">The threshold was chosen on the same ${c.source === 'out-of-fold' ? 'out-of-fold predictions' : 'validation cells'} it is scored on, so on new cells expect coverage or accuracy a little lower than shown.</p>
<details><summary>Coverage and accuracy at other thresholds</summary><div class="table-wrap"><table class="coverage">
<thead><tr><th>Threshold</th><th>Classified without review</th><th>Accuracy of those</th><th>Flagged for review</th></tr></thead>
<tbody>${rows}</tbody></table></div></details>
</section>`;
}
