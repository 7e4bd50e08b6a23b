import { html, type Raw } from './escape.ts';
import * as f from './format.ts';
import type { ReportData } from './types.ts';

/** Skipped files beyond this are counted, not listed: the manifest has them all. */
const SKIPPED_LISTED = 100;

/** What the model was trained on, and what could not be read. */
export function datasetSection(d: ReportData): Raw {
  const ds = d.dataset;
  const total = ds.classes.reduce((s, c) => s + (ds.imagesPerClass[c] ?? 0), 0);
  const largest = Math.max(1, ...ds.classes.map((c) => ds.imagesPerClass[c] ?? 0));
  const groups = ds.classes.reduce((s, c) => s + (ds.groupsPerClass[c] ?? 0), 0);
  const rows = ds.classes.map((c) => {
    const n = ds.imagesPerClass[c] ?? 0;
    const g = ds.groupsPerClass[c] ?? 0;
    const width = Math.round((120 * n) / largest);
    return html`<tr><td class="name">${c}</td><td class="left"><span class="bar" style="width:${width}px"></span>${f.count(n)}</td><td>${f.percent(total ? n / total : NaN)}</td><td>${f.count(g)}</td><td>${g ? (n / g).toFixed(1) : 'n/a'}</td></tr>`;
  });
  const shown = ds.skipped.slice(0, SKIPPED_LISTED);
  const skipped = ds.skipped.length
    ? html`<h3>Skipped files (${f.count(ds.skipped.length)})</h3>
<p>These files were in the folder but not used; fix or remove them and train again to include them.</p>
<div class="table-wrap"><table class="skipped"><thead><tr><th class="left">File</th><th class="left">Reason</th></tr></thead>
<tbody>${shown.map((s) => html`<tr><td class="left"><code>${s.path}</code></td><td class="left">${s.reason}</td></tr>`)}</tbody></table></div>${
        ds.skipped.length > shown.length
          ? html`<p>… and ${f.count(ds.skipped.length - shown.length)} more, listed in <code>manifest.json</code>.</p>`
          : html``
      }`
    : html`<h3>Skipped files</h3><p class="empty" id="skipped-none">None: every file in the folder was read.</p>`;
  return html`<section id="dataset" aria-labelledby="dataset-h">
<h2 id="dataset-h">Dataset</h2>
<p class="lead">Read from <code>${ds.root}</code>: ${f.count(total)} images in ${ds.classes.length} classes, one folder per class. Near-duplicate images (augmented copies of one photo) form a group; a group is never split between training and validation.</p>
<div class="split"><div class="table-wrap"><table class="dataset">
<thead><tr><th>Class</th><th class="left">Images</th><th>Share</th><th>Groups</th><th>Images per group</th></tr></thead>
<tbody>${rows}<tr class="total"><td>Total</td><td class="left">${f.count(total)}</td><td>${f.percent(total ? 1 : NaN)}</td><td>${f.count(groups)}</td><td>${groups ? (total / groups).toFixed(1) : 'n/a'}</td></tr></tbody></table></div>
<dl class="facts"><div><dt>Training images</dt><dd>${f.count(ds.trainImages)}</dd></div><div><dt>Validation images</dt><dd>${f.count(ds.validationImages)}</dd></div><div><dt>Groups</dt><dd>${f.count(groups)}</dd></div><div><dt>Skipped files</dt><dd>${ds.skipped.length ? f.count(ds.skipped.length) : 'none'}</dd></div></dl></div>
${skipped}
${domainProfile(d)}
</section>`;
}

/** The range of each domain statistic the Worker checks photos against, when the version has one. */
function domainProfile(d: ReportData): Raw {
  const p = d.manifest.domain;
  if (!p) return html``;
  const flagged = d.manifest.metrics.domain?.validationOutOfDomain;
  return html`<h3>Domain profile</h3>
<p id="domain-profile">A photo whose colour, stain or scale statistics fall outside these training ranges, widened by ${f.percent(p.margin, 0)} of each range on both sides${p.version >= 2 && 'distance' in p ? html`, or whose statistics together lie farther than ${p.distance.toFixed(2)} (Mahalanobis) from the training photos' mean` : ''}${p.version === 3 ? html`, or whose ${p.features.size} network features lie farther than ${p.features.distance.toFixed(2)} (Mahalanobis, shared covariance) from the nearest class's mean` : ''}, is answered with <code>review: true</code> and the reason <code>out_of_domain</code>.${flagged === undefined ? '' : ` On validation, ${f.percent(flagged)} of the photos were.`}</p>
<div class="table-wrap"><table class="domain"><thead><tr><th class="left">Statistic</th><th>Low</th><th>High</th></tr></thead>
<tbody>${p.statistics.map((name, k) => html`<tr><td class="left">${name}</td><td>${p.low[k].toFixed(3)}</td><td>${p.high[k].toFixed(3)}</td></tr>`)}</tbody></table></div>`;
}

/** What the crop does, in words. */
function cropText(p: ReportData['manifest']['preprocessing']): string {
  if (p.crop === 'cell') return `window ${p.cellScale} radii of the stained cell across, centred on it (the same whatever the framing)`;
  return p.crop === 'stain' ? `crop around the stain (${f.percent(p.cropFraction, 0)})` : 'full photo';
}

function pngDataUri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
}

/** The validation images the served model got wrong with the most confidence. */
export function mistakesSection(d: ReportData): Raw {
  if (d.mistakes.length === 0) {
    return html`<section id="mistakes" aria-labelledby="mistakes-h"><h2 id="mistakes-h">Most confident mistakes</h2>
<p class="empty" id="no-mistakes">No mistakes on validation: the model classified every validation image correctly.</p></section>`;
  }
  const cards = d.mistakes.map(
    (m) => html`<figure class="mistake"><img src="${pngDataUri(m.thumbnailPng)}" alt="${`${m.path}: a ${m.trueLabel} predicted as ${m.predictedLabel}`}">
<dl><dt>True</dt><dd>${m.trueLabel}</dd><dt>Predicted</dt><dd class="wrong">${m.predictedLabel}</dd><dt>Probability</dt><dd>${f.percent(m.probability)}</dd></dl>
<figcaption class="path">${m.path}</figcaption></figure>`,
  );
  return html`<section id="mistakes" aria-labelledby="mistakes-h">
<h2 id="mistakes-h">Most confident mistakes</h2>
<p class="lead">The ${d.mistakes.length} validation images the served model got wrong with the highest probability, most confident first. Confident mistakes are worth a look: they are often mislabelled or unusual photos rather than model errors.</p>
<div class="mistakes">${cards}</div>
</section>`;
}

/** How to reproduce the run and check the files. */
export function footerSection(d: ReportData): Raw {
  const m = d.manifest;
  const p = m.preprocessing;
  return html`<footer>
<dl>
<dt>Command</dt><dd><code>${m.training.command}</code></dd>
<dt>Dataset fingerprint</dt><dd><code>${m.training.datasetFingerprint}</code></dd>
<dt>Preprocessing</dt><dd>${cropText(p)}, ${p.version !== 1 && p.jpegScale === 'reduced' ? 'JPEG decoded at reduced scale, ' : ''}${p.resize} resize to ${p.width}×${p.height}, per-channel normalisation</dd>
<dt>Files</dt><dd>${m.files.map((file, i) => html`${i ? ', ' : ''}<code>${file.path}</code> ${f.bytes(file.bytes)} (sha256 ${file.sha256.slice(0, 12)}…)`)}</dd>
</dl>
<p>This report is a single self-contained file: it loads nothing from the network.</p>
</footer>`;
}
