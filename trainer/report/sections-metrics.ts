import type { Evaluation } from '../../shared/index.ts';
import { html, raw, type Raw } from './escape.ts';
import * as f from './format.ts';
import { heatMap } from './charts/heat-map.ts';
import type { ReportData } from './types.ts';

/** The largest off-diagonal cells, worst first, for a sentence under the heat map. */
function topConfusions(ev: Evaluation, limit: number): { from: string; to: string; n: number; of: number }[] {
  const out: { from: string; to: string; n: number; of: number }[] = [];
  ev.confusion.forEach((row, i) => {
    const of = row.reduce((a, b) => a + b, 0);
    row.forEach((n, j) => {
      if (i !== j && n > 0) out.push({ from: ev.classes[i], to: ev.classes[j], n, of });
    });
  });
  return out.sort((a, b) => b.n - a.n).slice(0, limit);
}

/** Confusion matrix of the served (quantised) model. */
export function confusionSection(d: ReportData): Raw {
  const q = d.quantizedEvaluation;
  const worst = topConfusions(q, 3);
  const summary = worst.length
    ? html`<p>Most frequent confusions:</p><ul class="confusions">${worst.map(
        (w) => html`<li><strong>${w.from}</strong> taken for <strong>${w.to}</strong>: ${w.n} of ${w.of}</li>`,
      )}</ul>`
    : html`<p class="empty">Every validation image was classified correctly.</p>`;
  return html`<section id="confusion" aria-labelledby="confusion-h">
<h2 id="confusion-h">Confusion matrix (${d.manifest.quantization.dtype === 'none' ? 'float' : 'quantised'} model)</h2>
<p class="lead">Rows are the true class (the folder an image came from), columns the model's prediction. The diagonal (outlined) holds the correct answers. Shading is the share of the row, so classes of different sizes compare fairly.</p>
<div class="split"><figure>${heatMap(q.classes, q.confusion, 'Confusion matrix: rows true class, columns predicted class')}</figure>
<div>${summary}<p>Recall of a class is its diagonal cell divided by its row total; precision is the diagonal cell divided by its column total.</p></div></div>
</section>`;
}

function deltaCell(delta: number, format: (v: number) => string): Raw {
  const text = format(delta);
  const cls = text.startsWith('−') ? 'delta-neg' : text.startsWith('+') ? 'delta-pos' : '';
  return html`<td${raw(cls ? ` class="${cls}"` : '')}>${text}</td>`;
}

/** Precision, recall, F1 and support per class, float and quantised side by side. */
export function perClassSection(d: ReportData): Raw {
  const fl = d.floatEvaluation;
  const q = d.quantizedEvaluation;
  const metrics = ['precision', 'recall', 'f1'] as const;
  const mean = (ev: Evaluation, k: (typeof metrics)[number]) =>
    ev.classes.reduce((s, c) => s + ev.perClass[c][k], 0) / Math.max(1, ev.classes.length);
  const rows = q.classes.map((c) => {
    const a = fl.perClass[c];
    const b = q.perClass[c];
    return html`<tr><td class="name">${c}</td><td>${f.count(b.support)}</td>${metrics.map(
      (k) => html`<td>${f.score(a[k])}</td><td class="q">${f.score(b[k])}</td>`,
    )}</tr>`;
  });
  const support = q.classes.reduce((s, c) => s + q.perClass[c].support, 0);
  const qName = d.manifest.quantization.dtype === 'none' ? 'Float' : 'Quant.';
  return html`<section id="per-class" aria-labelledby="per-class-h">
<h2 id="per-class-h">Per-class results</h2>
<p class="lead"><strong>Precision</strong>: of the images the model called this class, the share that were. <strong>Recall</strong>: of the images of this class, the share it found. <strong>F1</strong>: their harmonic mean. <strong>Support</strong>: validation images of the class.</p>
<div class="table-wrap"><table class="per-class">
<thead><tr><th rowspan="2">Class</th><th rowspan="2">Support</th>${metrics.map((k) => html`<th class="group" colspan="2">${k === 'f1' ? 'F1' : k}</th>`)}</tr>
<tr>${metrics.map(() => html`<th>Float</th><th class="q">${qName}</th>`)}</tr></thead>
<tbody>${rows}
<tr class="total"><td>Macro average</td><td>${f.count(support)}</td>${metrics.map(
    (k) => html`<td>${f.score(mean(fl, k))}</td><td class="q">${f.score(mean(q, k))}</td>`,
  )}</tr></tbody></table></div>
</section>`;
}

/** What quantising the weights cost and saved. */
export function quantizationSection(d: ReportData): Raw {
  const fl = d.floatEvaluation;
  const q = d.quantizedEvaluation;
  const { dtype, weightBytes } = d.manifest.quantization;
  const floatBytes = d.parameters * 4;
  const none = dtype === 'none';
  const verdict = none
    ? 'The weights were not quantised: the served model is the float model.'
    : `Weights are stored as ${dtype} and expanded to float32 when the model loads, so the file is smaller while the arithmetic is unchanged. The served model is the quantised one; its figures are the headline.`;
  return html`<section id="quantization" aria-labelledby="quantization-h">
<h2 id="quantization-h">Float vs quantised model</h2>
<p class="lead">${verdict}</p>
<div class="table-wrap"><table class="compare">
<thead><tr><th></th><th>Float (float32)</th><th class="q">${none ? 'Stored (float32)' : `Quantised (${dtype})`}</th><th>Change</th></tr></thead>
<tbody>
<tr><td class="name">Validation accuracy</td><td>${f.percent(fl.accuracy)}</td><td class="q">${f.percent(q.accuracy)}</td>${deltaCell(q.accuracy - fl.accuracy, f.points)}</tr>
<tr><td class="name">Macro-F1</td><td>${f.score(fl.macroF1)}</td><td class="q">${f.score(q.macroF1)}</td>${deltaCell(q.macroF1 - fl.macroF1, f.scoreDelta)}</tr>
<tr><td class="name">Weight dtype</td><td>float32</td><td class="q">${none ? 'float32' : dtype}</td><td></td></tr>
<tr><td class="name">Weight size</td><td>≈ ${f.bytes(floatBytes)}</td><td class="q">${f.bytes(weightBytes)}</td><td>${
    !none && floatBytes > 0 && weightBytes > 0 ? `${(floatBytes / weightBytes).toFixed(1)}× smaller` : ''
  }</td></tr>
</tbody></table></div>
<p class="lead after">Float size is estimated as ${f.count(d.parameters)} parameters × 4 bytes; the quantised size is as written to disk.</p>
</section>`;
}
