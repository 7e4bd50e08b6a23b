// @ts-check
import { call, explain, getJson, readJson } from './api.js';
import { bar, h, messageArea, viewHeading } from './dom.js';
import { ms, percent } from './format.js';

const TYPES = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };
/** How long one image's upload and answer may take (10 MiB at about 0.5 Mbit/s). */
const UPLOAD_TIMEOUT_MS = 180_000;

/** The file as the API expects it: browsers leave some types empty, so the extension decides then. @param {File} file */
function typed(file) {
  if (file.type) return file;
  const ext = /** @type {keyof typeof TYPES} */ (file.name.split('.').pop()?.toLowerCase() ?? '');
  return new Blob([file], { type: TYPES[ext] ?? 'application/octet-stream' });
}

/** Confirming the true class feeds the live accuracy and confusion matrix. @param {any} result */
function feedbackForm(result) {
  const id = `truth-${result.id}`;
  const select = h('select', { id }, result.predictions.map((/** @type {any} */ p) => h('option', { value: p.label, selected: p.label === result.top.label }, p.label)));
  const status = messageArea();
  const button = h('button', { type: 'submit', class: 'secondary' }, 'Confirm');
  const form = h('form', { class: 'feedback' }, h('label', { for: id }, 'True class'), select, button, status.el);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const fb = await getJson('/v1/feedback', { method: 'POST', json: { id: result.id, label: select.value } });
      status.show(`Recorded: ${fb.label}; the model was ${fb.correct ? 'right' : `wrong (it said ${fb.predicted})`}.`, 'ok');
      button.disabled = true;
    } catch (error) {
      status.show(explain(error), 'error');
    }
  });
  return form;
}

/** @param {File} file @param {any} result @param {string} version @param {number} roundTrip */
function resultCard(file, result, version, roundTrip) {
  const t = result.timing;
  return h('article', { class: 'card result', 'aria-label': `Result for ${file.name}` },
    h('div', { class: 'result-head' },
      h('img', { src: URL.createObjectURL(file), alt: `the image ${file.name}`, class: 'thumb', width: '96', height: '96' }),
      h('div', {},
        h('p', { class: 'muted file' }, file.name),
        h('p', { class: 'top-label' }, h('strong', { 'data-top': 'label' }, result.top.label), ` ${percent(result.top.probability)}`),
        result.review
          ? h('p', { class: 'badge warn' }, 'Review: the confidence is under this version’s threshold; a technician should check this cell')
          : h('p', { class: 'badge good' }, 'No review needed'),
      ),
    ),
    h('div', { class: 'bars probabilities', role: 'group', 'aria-label': 'Probability of each class' },
      result.predictions.map((/** @type {any} */ p) => bar(p.label, p.probability, percent(p.probability), p.label === result.top.label ? '' : 'alt'))),
    h('p', { class: 'muted small' },
      `Answered by version ${version}. Decode ${ms(t.decodeMs)}, preprocess ${ms(t.preprocessMs)}, inference ${ms(t.inferMs)}; ${ms(roundTrip)} round trip from this page.`),
    feedbackForm(result),
    h('p', { class: 'muted small id' }, `Prediction id ${result.id}`),
  );
}

/** @param {HTMLElement} root */
export async function showTry(root) {
  root.append(...viewHeading('Try it', 'Classify photos of single blood cells (JPEG, PNG or WebP) with the live routing, or with one version pinned.'));
  const { models } = await getJson('/v1/models');
  const input = h('input', { type: 'file', id: 'files', multiple: true, accept: 'image/jpeg,image/png,image/webp' });
  const pin = h('select', { id: 'pin' }, h('option', { value: '' }, 'as routed (split or default)'),
    models.filter((/** @type {any} */ m) => m.status !== 'incomplete').map((/** @type {any} */ m) => h('option', { value: m.version }, m.version)));
  const drop = h('div', { class: 'drop', id: 'drop' },
    h('label', { for: 'files' }, 'Images to classify'), input, h('p', { class: 'muted' }, 'Choose one or more, or drop them anywhere in this box.'));
  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  root.append(h('div', { class: 'toolbar' }, drop, h('div', { class: 'field' }, h('label', { for: 'pin' }, 'Version'), pin)), results);

  /** @param {File[]} files */
  const classify = async (files) => {
    for (const file of files) {
      const started = performance.now();
      try {
        // An upload of up to 10 MiB over a slow lab link can take minutes; the default 30 s is for answers.
        const res = await call('/v1/classify', { method: 'POST', body: typed(file), headers: pin.value ? { 'x-model-version': pin.value } : {}, timeoutMs: UPLOAD_TIMEOUT_MS });
        const result = await readJson(res, UPLOAD_TIMEOUT_MS);
        results.prepend(resultCard(file, result, res.headers.get('x-model-version') ?? result.model.version, performance.now() - started));
      } catch (error) {
        results.prepend(h('article', { class: 'card result' }, h('p', { class: 'muted file' }, file.name), h('p', { class: 'message error', role: 'alert' }, explain(error))));
      }
    }
  };
  input.addEventListener('change', () => {
    void classify([...(input.files ?? [])]);
    input.value = '';
  });
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    void classify([...(event.dataTransfer?.files ?? [])]);
  });
}
