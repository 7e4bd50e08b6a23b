// @ts-check
import { getJson } from './api.js';
import { figure, h, heatMap, tableBox, viewHeading, when } from './dom.js';
import { bytes, percent, score } from './format.js';

/** @param {string} tone @param {string} text */
const badge = (tone, text) => h('span', { class: `badge ${tone}` }, text);

/**
 * @param {any} summary an entry of GET /v1/models
 * @param {any} detail GET /v1/models/{version}, or null
 * @param {any} routing the routing in force, or null
 * @param {Map<string, number>} resident version -> bytes in this isolate
 */
function badges(summary, detail, routing, resident) {
  const out = [];
  const status = detail?.status ?? summary.status;
  if (status === 'ready') out.push(badge('good', 'Verified'));
  else if (status === 'invalid') out.push(badge('bad', 'Failed check'));
  else if (status === 'incomplete') out.push(badge('warn', 'Incomplete'));
  else out.push(badge('', 'Published, not loaded'));
  if (resident.has(summary.version)) out.push(badge('info', 'Resident'));
  if (summary.default) out.push(badge('info', 'Default'));
  const weight = routing?.split?.[summary.version];
  if (weight !== undefined) out.push(badge('info', `${weight}% of traffic`));
  if (routing?.shadow === summary.version) out.push(badge('info', 'Shadow'));
  return out;
}

/** @param {any} validation manifest.metrics.validation */
function validationSection(validation) {
  if (!validation) return h('p', { class: 'muted' }, 'This manifest carries no validation metrics.');
  const classes = validation.classes ?? Object.keys(validation.perClass ?? {});
  const support = classes.reduce((/** @type {number} */ n, /** @type {string} */ c) => n + (validation.perClass?.[c]?.support ?? 0), 0);
  const perClass = tableBox(h('table', { class: 'plain' },
    h('caption', {}, 'Per class (validation)'),
    h('thead', {}, h('tr', {}, ['Class', 'Precision', 'Recall', 'F1', 'Images'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, classes.map((/** @type {string} */ c) => {
      const m = validation.perClass?.[c] ?? {};
      return h('tr', {}, h('th', { scope: 'row' }, c), h('td', {}, percent(m.precision)), h('td', {}, percent(m.recall)), h('td', {}, score(m.f1)), h('td', {}, m.support ?? '–'));
    })),
  ));
  return h('section', { class: 'validation' },
    h('h4', {}, 'Validation metrics'),
    h('dl', { class: 'figures' }, figure('Accuracy', percent(validation.accuracy)), figure('Macro-F1', score(validation.macroF1)), figure('Images', support || '–')),
    h('div', { class: 'side-by-side' }, perClass, validation.confusion ? heatMap('Confusion (validation)', classes, validation.confusion) : null),
  );
}

/** @param {any} summary @param {any} detail @param {any} routing @param {Map<string, number>} resident */
function modelCard(summary, detail, routing, resident) {
  const v = summary.version;
  const files = /** @type {{path: string, bytes: number}[]} */ (detail?.files ?? []);
  const modelBytes = files.filter((f) => f.path !== 'report.html').reduce((n, f) => n + f.bytes, 0);
  const report = files.find((f) => f.path === 'report.html');
  const input = detail?.input;
  const training = detail?.training;
  const facts = h('dl', { class: 'facts' },
    h('dt', {}, 'Classes'), h('dd', {}, detail?.classes ? detail.classes.join(', ') : '–'),
    h('dt', {}, 'Input'), h('dd', {}, input ? `${input.width} × ${input.height} px, ${input.channels} channels` : '–'),
    h('dt', {}, 'Size'), h('dd', {}, modelBytes ? `${bytes(modelBytes)} (weights ${detail?.quantization?.dtype ?? 'float32'})` : '–'),
    h('dt', {}, 'In memory'), h('dd', {}, resident.has(v) ? bytes(/** @type {number} */ (resident.get(v))) : 'not resident'),
    h('dt', {}, 'Trained'), h('dd', {}, training ? `${when(summary.createdAt)}: ${training.arch}, ${training.epochsRun ?? training.epochs} epochs, ${training.images} images` : when(summary.createdAt)),
    h('dt', {}, 'Published'), h('dd', {}, when(summary.publishedAt)),
  );
  const reason = detail?.reason ?? summary.reason;
  return h('article', { class: 'card model', 'aria-labelledby': `model-${v}`, 'data-version': v },
    h('header', { class: 'card-head' }, h('h3', { id: `model-${v}` }, v), summary.name ? h('span', { class: 'muted' }, summary.name) : null, h('span', { class: 'badges' }, badges(summary, detail, routing, resident))),
    reason ? h('p', { class: 'message error' }, `Not served: ${reason}`) : null,
    facts,
    detail ? validationSection(detail.metrics?.validation) : null,
    report
      ? h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: () => openReport(v) }, `Open the training report of ${v}`), h('small', { class: 'muted' }, ` (${bytes(report.bytes)}, opens in a new tab)`))
      : h('p', { class: 'muted' }, 'No training report was published with this version.'),
  );
}

/** The viewer reads the token from this tab's session (copied to the tab it opens) and the version from the fragment. */
function openReport(/** @type {string} */ version) {
  window.open(`report#${encodeURIComponent(version)}`, '_blank');
}

/** @param {HTMLElement} root */
export async function showModels(root) {
  root.append(...viewHeading('Models', 'Published versions, their integrity check, and what their training measured on held-out images.'));
  const [{ models }, { routing }] = await Promise.all([getJson('/v1/models'), getJson('/v1/routing')]);
  if (!models.length) {
    root.append(h('p', { class: 'message info' }, 'No model version is published yet: run `npm run publish -- --model DIR --local`.'));
    return;
  }
  // Reading a version's detail verifies it (and loads it), so statuses below are first-hand.
  const details = await Promise.all(models.map((/** @type {any} */ m) => (m.status === 'incomplete' ? null : getJson(`/v1/models/${encodeURIComponent(m.version)}`).catch(() => null))));
  const info = await getJson('/v1/info').catch(() => null);
  const resident = new Map((info?.models?.versions ?? []).map((/** @type {any} */ r) => [r.version, r.bytes]));
  root.append(h('p', { class: 'muted' }, `${models.length} version${models.length === 1 ? '' : 's'}, newest first. Default: ${models.find((/** @type {any} */ m) => m.default)?.version ?? 'none'}.`));
  root.append(h('div', { class: 'cards' }, models.map((/** @type {any} */ m, /** @type {number} */ i) => modelCard(m, details[i], routing, resident))));
}
