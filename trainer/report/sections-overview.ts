import { html, raw, type Raw } from './escape.ts';
import * as f from './format.ts';
import { lineChart } from './charts/line-chart.ts';
import type { ReportData } from './types.ts';

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const sentence = (s: string) => (/[.!?]$/.test(s.trim()) ? s.trim() : `${s.trim()}.`);

/** Model identity and how it was trained. */
export function headerSection(d: ReportData): Raw {
  const m = d.manifest;
  const t = m.training;
  const facts: [string, string][] = [
    ['Trained', f.timestamp(m.createdAt)],
    ['Architecture', t.arch],
    ['Backend', t.backend],
    ['Epochs', `${t.epochsRun} of ${t.epochs} run, ${f.keptEpoch(t)}`],
    ['Seed', String(t.seed)],
    ['Training time', f.duration(t.durationMs)],
    ['Model size', `${f.bytes(d.modelBytes)} (${m.quantization.dtype === 'none' ? 'float32' : m.quantization.dtype} weights)`],
    ['Parameters', f.count(d.parameters)],
    ['Input', `${m.input.width}×${m.input.height} RGB, ${m.preprocessing.crop === 'full' ? 'full photo' : m.preprocessing.crop === 'cell' ? 'window sized from the stained cell' : 'cropped around the stain'}`],
    ['Classes', String(m.classes.length)],
  ];
  return html`<header class="report-head">
<div class="eyebrow">Training report</div>
<h1>${m.name} <span class="version">version ${m.version}</span></h1>
<p class="sub">A ${m.classes.length}-class image classifier: ${m.classes.join(', ')}</p>
<dl class="facts">${facts.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
</header>`;
}

/** The figures a reader looks for first, and how far to trust them. */
export function summarySection(d: ReportData): Raw {
  const q = d.quantizedEvaluation;
  const fl = d.floatEvaluation;
  const ds = d.dataset;
  const total = ds.trainImages + ds.validationImages;
  const dtype = d.manifest.quantization.dtype;
  const quantLabel = dtype === 'none' ? 'not quantised' : `quantised to ${dtype}, as served`;
  const onePoint = ds.validationImages ? 1 / ds.validationImages : NaN;
  const cv = d.crossValidation;
  const lead = cv
    ? `Cross-validation scores every image once, by a model trained without its group: that is the accuracy to quote. The other figures are measured on one validation split, which the model never trained on.`
    : 'Measured on the validation images only, which the model never trained on.';
  const split = d.manifest.metrics.split;
  const grouping = { content: 'found from the pixels (content grouping)', pattern: 'read from file names (--group-pattern)', similarity: 'found by an older colour fingerprint' }[split.method];
  return html`<section id="summary" aria-labelledby="summary-h">
<h2 id="summary-h">Headline results</h2>
<p class="lead">${lead}</p>
<p id="grouping-note">Every figure here comes from splits that keep all copies of a source photo on one side. Source photos ${grouping}: ${f.count(split.groups)} groups${cv?.grouping ? `; cross-validation folds by ${cv.grouping}` : ''}.</p>
${headlineCards(d)}
<div class="cards">
<div class="card"><div class="label">Validation accuracy (${quantLabel})</div><div class="value">${f.percent(q.accuracy)}</div>
<div class="detail">float model: ${f.percent(fl.accuracy)} (${f.points(q.accuracy - fl.accuracy)})</div></div>
<div class="card"><div class="label">Macro-F1 (${dtype === 'none' ? 'float' : 'quantised'})</div><div class="value">${f.score(q.macroF1)}</div>
<div class="detail">float model: ${f.score(fl.macroF1)} · mean F1 over ${q.classes.length} classes</div></div>
<div class="card"><div class="label">Validation images</div><div class="value">${f.count(ds.validationImages)}</div>
<div class="detail">of ${f.count(total)} images; ${f.count(ds.trainImages)} used for training</div></div>
</div>
<div class="note" id="split-note">
<p><strong>How validation was split:</strong> ${f.count(ds.validationImages)} of ${f.count(total)} images (${f.percent(total ? ds.validationImages / total : NaN)}) were held out, whole groups of near-duplicate images at a time. ${sentence(capitalise(ds.splitDescription))}</p>
<p>With ${f.count(ds.validationImages)} validation images, one image more or less right moves accuracy by ${Number.isFinite(onePoint) ? (100 * onePoint).toFixed(1) : 'n/a'} percentage points, so small differences between runs are noise. These figures come from the same collection as the training data; they are not a clinical validation.</p>
</div>
</section>`;
}

/** Cross-validated accuracy and the share of cells answered without review, when the run has them. */
function headlineCards(d: ReportData): Raw {
  const cv = d.crossValidation;
  const c = d.calibration;
  if (!cv && !c) return html``;
  const cvCard = cv
    ? html`<div class="card honest" id="cv-card"><div class="label">Cross-validated accuracy (${cv.folds} grouped folds)</div><div class="value">${f.percent(cv.accuracy.mean)} <span class="spread">${f.plusMinusPoints(cv.accuracy.std)}</span></div>
<div class="detail">mean ± std over folds; macro-F1 ${f.scoreSpread(cv.macroF1)}</div></div>`
    : html``;
  const reviewCard = c
    ? html`<div class="card honest" id="review-card"><div class="label">Classified without review</div><div class="value">${f.percent(c.coverage)}</div>
<div class="detail">${f.percent(c.accuracyAboveThreshold)} of them right at threshold ${f.threshold(c.threshold)}; ${f.percent(1 - c.coverage)} flagged for review${c.met ? '' : ' (targets not met)'}</div></div>`
    : html``;
  return html`<div class="cards headline">${cvCard}${reviewCard}</div>`;
}

/** Loss and accuracy per epoch, train against validation. */
export function curvesSection(d: ReportData): Raw {
  const h = d.history;
  if (h.length === 0) {
    return html`<section id="curves" aria-labelledby="curves-h"><h2 id="curves-h">Training curves</h2>
<p class="lead">No epoch finished, so there are no curves to draw.</p></section>`;
  }
  const x = h.map((r) => r.epoch);
  const best = d.manifest.training.bestEpoch;
  const bestLabel = d.manifest.training.keepEpoch === 'last' ? 'kept epoch' : 'best epoch';
  const train = { label: 'Train', color: '#2563eb', dashed: true };
  const val = { label: 'Validation', color: '#ea580c' };
  const loss = lineChart({
    title: 'Loss per epoch (train vs validation)', x, bestEpoch: best, bestLabel, yLabel: 'Loss (cross-entropy)',
    formatY: (v) => Number(v.toFixed(3)).toString(),
    series: [{ ...train, values: h.map((r) => r.loss) }, { ...val, values: h.map((r) => r.valLoss) }],
  });
  const lowest = Math.min(...h.flatMap((r) => [r.accuracy, r.valAccuracy]).filter(Number.isFinite));
  const accuracy = lineChart({
    title: 'Accuracy per epoch (train vs validation)', x, bestEpoch: best, bestLabel, yLabel: 'Accuracy',
    yRange: [Math.max(0, Math.floor(lowest * 10) / 10), 1], formatY: (v) => f.percent(v, 0),
    series: [{ ...train, values: h.map((r) => r.accuracy) }, { ...val, values: h.map((r) => r.valAccuracy) }],
  });
  const rows = h.map(
    (r) => html`<tr${raw(r.epoch === best ? ' class="best-row"' : '')}><td>${r.epoch}${r.epoch === best ? ' (best)' : ''}</td><td>${f.score(r.loss)}</td><td>${f.percent(r.accuracy)}</td><td>${f.score(r.valLoss)}</td><td>${f.percent(r.valAccuracy)}</td><td>${f.duration(r.durationMs)}</td></tr>`,
  );
  return html`<section id="curves" aria-labelledby="curves-h">
<h2 id="curves-h">Training curves</h2>
<p class="lead">Train figures are averaged over each epoch's augmented batches; validation figures are measured after the epoch. The weights kept are those of the epoch with the lowest validation loss (dashed line: epoch ${best}).</p>
<div class="charts"><figure>${loss}</figure><figure>${accuracy}</figure></div>
<details><summary>Per-epoch figures</summary><div class="table-wrap"><table>
<thead><tr><th>Epoch</th><th>Train loss</th><th>Train accuracy</th><th>Validation loss</th><th>Validation accuracy</th><th>Time</th></tr></thead>
<tbody>${rows}</tbody></table></div></details>
</section>`;
}
