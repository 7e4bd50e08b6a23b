import { html, type Raw } from './escape.ts';
import * as f from './format.ts';
import type { CrossValidationReport, ReportData, Spread } from './types.ts';

/**
 * Mean and sample standard deviation (n − 1) of the folds' ECE, which the report derives itself
 * because `CrossValidationReport` carries ECE per fold only.
 */
export function foldEce(cv: CrossValidationReport): Spread {
  const values = cv.rows.map((r) => r.ece);
  const mean = values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
  const squares = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return { mean, std: values.length > 1 ? Math.sqrt(squares / (values.length - 1)) : 0 };
}

const range = (values: number[], format: (v: number) => string) =>
  values.length ? `${format(Math.min(...values))} to ${format(Math.max(...values))}` : 'n/a';

/** Grouped k-fold cross-validation: one row per fold, the spread, and per-class figures. */
export function crossValidationSection(d: ReportData): Raw {
  const cv = d.crossValidation;
  if (!cv) return html``;
  const ece = foldEce(cv);
  const accuracies = cv.rows.map((r) => r.accuracy);
  const f1s = cv.rows.map((r) => r.macroF1);
  const images = cv.rows.reduce((s, r) => s + r.validationImages, 0);
  const groups = cv.rows.reduce((s, r) => s + r.groups, 0);
  // Results files from before the per-photo figure have no column for it.
  const photo = cv.photoAccuracy && cv.rows.every((r) => r.photoAccuracy !== undefined) ? cv.photoAccuracy : undefined;
  const photoCell = (v: Raw | string) => (photo ? html`<td>${v}</td>` : html``);
  const folds = cv.rows.map(
    (r) => html`<tr><td>${r.fold}</td><td>${f.count(r.validationImages)}</td><td>${f.count(r.groups)}</td><td>${f.percent(r.accuracy)}</td>${photoCell(f.percent(r.photoAccuracy ?? 0))}<td>${f.score(r.macroF1)}</td><td>${f.score(r.ece)}</td></tr>`,
  );
  const classes = d.manifest.classes.map((c) => {
    const p = cv.perClass[c];
    return html`<tr><td class="name">${c}</td><td>${f.scoreSpread(p.precision)}</td><td>${f.scoreSpread(p.recall)}</td><td>${f.scoreSpread(p.f1)}</td></tr>`;
  });
  return html`<section id="cross-validation" aria-labelledby="cross-validation-h">
<h2 id="cross-validation-h">Cross-validation (${cv.folds} grouped folds)</h2>
<p class="lead">The whole recipe was trained ${cv.folds} times. Each time one fold of whole groups of near-duplicate images was held out and scored, so every image was scored once, by a model that never saw its group. Mean ± standard deviation over the folds: these are the figures to quote for new cells, and the spread shows how far a single split can mislead.</p>
<div class="cards">
<div class="card"><div class="label">Accuracy, mean ± std</div><div class="value">${f.percent(cv.accuracy.mean)} <span class="spread">${f.plusMinusPoints(cv.accuracy.std)}</span></div><div class="detail">folds range ${range(accuracies, (v) => f.percent(v))}${photo ? html`; each source photo counted once: ${f.percent(photo.mean)} ${f.plusMinusPoints(photo.std)}` : ''}</div></div>
<div class="card"><div class="label">Macro-F1, mean ± std</div><div class="value">${f.score(cv.macroF1.mean)} <span class="spread">± ${f.score(cv.macroF1.std)}</span></div><div class="detail">folds range ${range(f1s, f.score)}</div></div>
<div class="card"><div class="label">ECE, mean ± std</div><div class="value">${f.score(ece.mean)} <span class="spread">± ${f.score(ece.std)}</span></div><div class="detail">on each fold's held-out images, after a temperature fitted without them</div></div>
</div>
<div class="table-wrap"><table class="folds">
<thead><tr><th>Fold</th><th>Held-out images</th><th>Groups</th><th>Accuracy</th>${photo ? html`<th>Accuracy per photo</th>` : ''}<th>Macro-F1</th><th>ECE</th></tr></thead>
<tbody>${folds}
<tr class="total"><td>Mean</td><td>${f.count(images)} in all</td><td>${f.count(groups)} in all</td><td>${f.percent(cv.accuracy.mean)}</td>${photoCell(photo ? f.percent(photo.mean) : '')}<td>${f.score(cv.macroF1.mean)}</td><td>${f.score(ece.mean)}</td></tr>
<tr class="total std"><td>Std</td><td></td><td></td><td>${f.plusMinusPoints(cv.accuracy.std)}</td>${photoCell(photo ? f.plusMinusPoints(photo.std) : '')}<td>± ${f.score(cv.macroF1.std)}</td><td>± ${f.score(ece.std)}</td></tr>
</tbody></table></div>
<h3>Per class, mean ± std over the folds</h3>
<div class="table-wrap"><table class="cv-per-class">
<thead><tr><th>Class</th><th>Precision</th><th>Recall</th><th>F1</th></tr></thead>
<tbody>${classes}</tbody></table></div>
<p class="lead after">Run with <code>${cv.command}</code></p>
</section>`;
}
