// @ts-check
import { explain, getJson } from './api.js';
import { distribution, figure, h, heatMap, messageArea, viewHeading } from './dom.js';
import { driftSection } from './drift.js';
import { ms, percent, score } from './format.js';

// [seconds back, label, refresh interval in seconds]. Each refresh makes D1 scan the window's
// predictions, so long windows (whose numbers move slowly anyway) are read less often.
/** How long one refresh may take before it is given up. */
const LOAD_TIMEOUT_MS = 10_000;

const WINDOWS = [
  ['900', 'Last 15 minutes', 5],
  ['3600', 'Last hour', 5],
  ['86400', 'Last 24 hours', 30],
  ['604800', 'Last 7 days', 60],
  ['', 'All time', 60],
];

/**
 * Which classes the macro-F1 averages: those with a confirmed label (the API leaves out the rest).
 * @param {any} fb a LiveEvaluation
 */
function macroF1Note(fb) {
  const supported = fb.classes.filter((/** @type {string} */ c) => fb.perClass[c]?.support > 0).length;
  return `mean F1 over the ${supported} of ${fb.classes.length} classes with a confirmed label`;
}

/** @param {any} fb a LiveEvaluation, or null @param {string} who */
function feedbackBlock(fb, who) {
  if (!fb) return h('p', { class: 'muted' }, `No confirmed labels for ${who} yet (confirm one in Try it, or POST /v1/feedback).`);
  return h('div', {},
    h('dl', { class: 'figures' }, figure('Confirmed', fb.count), figure('Live accuracy', percent(fb.accuracy)), figure('Macro-F1', score(fb.macroF1), macroF1Note(fb))),
    heatMap(`Confusion from feedback (${who})`, fb.classes, fb.confusion),
  );
}

/** @param {any} s a VersionStats entry */
function versionCard(s) {
  const errorShare = s.requests ? s.errors / s.requests : null;
  const errorCodes = Object.entries(s.errorsByCode).map(([code, n]) => `${code} ${n}`).join(', ');
  const card = h('article', { class: 'card live', 'aria-labelledby': `live-${s.version}`, 'data-version': s.version },
    h('h3', { id: `live-${s.version}` }, s.version),
    h('dl', { class: 'figures' },
      figure('Requests', h('span', { 'data-figure': 'requests' }, String(s.requests))),
      figure('Errors', `${s.errors}`, s.errors ? `${percent(errorShare)}: ${errorCodes}` : undefined),
      figure('Latency p50 / p95', s.latencyMs ? `${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p95)}` : '–'),
      figure('Mean confidence', percent(s.meanTopProbability)),
      figure('Flagged for review', String(s.review)),
      figure('Fallbacks', `${s.fallbacks.answeredFor} in / ${s.fallbacks.sentElsewhere} out`),
    ),
    h('div', { class: 'side-by-side' },
      h('section', {}, h('h4', {}, 'Predicted classes'), distribution(s.predictedClasses)),
      h('section', {}, h('h4', {}, 'Feedback'), feedbackBlock(s.feedback, 'its answers')),
    ),
  );
  if (s.shadow) {
    const sh = s.shadow;
    card.append(h('section', { class: 'shadow' }, h('h4', {}, 'As the shadow version'),
      h('dl', { class: 'figures' },
        figure('Shadow runs', String(sh.runs)),
        figure('Agreement', percent(sh.agreement), `${sh.agreed} of ${sh.runs - sh.errors} answered`),
        figure('Errors', String(sh.errors)),
        figure('Latency p50 / p95', sh.latencyMs ? `${ms(sh.latencyMs.p50)} / ${ms(sh.latencyMs.p95)}` : '–'),
        figure('Mean confidence', percent(sh.meanTopProbability)),
      ),
      h('div', { class: 'side-by-side' }, h('section', {}, h('h5', {}, 'Shadow predicted classes'), distribution(sh.predictedClasses, 'alt')), sh.feedback ? feedbackBlock(sh.feedback, 'its shadow answers') : null),
    ));
  }
  return card;
}

/**
 * @param {HTMLElement} root
 * @returns {Promise<() => void>} stops the refresh when the view is left
 */
export async function showLive(root) {
  root.append(...viewHeading('Live', 'Per version, from the traffic the Worker recorded: requests, errors, latency, what it predicted, and how it did on confirmed labels; then per device, whether its photos drift from the training photos.'));
  const range = h('select', { id: 'window' }, WINDOWS.map(([value, label]) => h('option', { value: String(value), selected: value === '3600' }, String(label))));
  const auto = h('input', { type: 'checkbox', id: 'auto', checked: true });
  const autoLabel = h('label', { for: 'auto' });
  const every = () => Number(WINDOWS.find(([value]) => value === range.value)?.[2] ?? 60);
  const now = h('button', { type: 'button', class: 'secondary' }, 'Refresh now');
  const updated = h('span', { class: 'muted', id: 'updated' });
  const message = messageArea();
  const cards = h('div', { class: 'cards', id: 'live-cards', 'aria-busy': 'true' });
  const drift = h('section', { id: 'drift', 'aria-busy': 'true' });
  root.append(
    h('div', { class: 'toolbar' },
      h('div', { class: 'field' }, h('label', { for: 'window' }, 'Time window'), range),
      h('div', { class: 'field inline' }, auto, autoLabel),
      now, updated),
    message.el, cards, drift,
  );

  let busy = false;
  const load = async () => {
    if (busy) return;
    busy = true;
    try {
      const seconds = Number(range.value);
      const sinceMs = seconds ? Date.now() - seconds * 1000 : null;
      const since = sinceMs ? `?since=${encodeURIComponent(new Date(sinceMs).toISOString())}` : '';
      // Shorter than the wait for the next refresh would allow: a request that hangs is given up,
      // said so, and the next refresh tries again.
      const stats = await getJson(`/v1/stats${since}`, { timeoutMs: LOAD_TIMEOUT_MS });
      const list = /** @type {any[]} */ (stats.versions).filter((v) => v.requests || v.shadow?.runs || v.feedback);
      cards.replaceChildren(...(list.length ? list.map(versionCard) : [h('p', { class: 'muted' }, 'No traffic in this window.')]));
      cards.setAttribute('aria-busy', 'false');
      // A refresh keeps the tables a reader opened.
      const opened = new Set([...drift.querySelectorAll('details[open]')].map((d) => d.getAttribute('data-key') ?? ''));
      drift.replaceChildren(...driftSection(stats.drift, sinceMs, stats.generatedAt, opened));
      drift.setAttribute('aria-busy', 'false');
      const total = list.reduce((n, v) => n + v.requests, 0);
      updated.textContent = `${total} request${total === 1 ? '' : 's'} in the window; updated ${new Date(stats.generatedAt).toLocaleTimeString()}`;
      message.clear();
    } catch (error) {
      message.show(explain(error), 'error');
    } finally {
      busy = false;
    }
  };
  // Updates in place (no reload); paused while the tab is hidden or the box is unticked.
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let timer;
  const schedule = () => {
    clearInterval(timer);
    autoLabel.textContent = `Refresh every ${every()} s`;
    timer = setInterval(() => {
      if (auto.checked && !document.hidden) void load();
    }, every() * 1000);
  };
  range.addEventListener('change', () => (schedule(), load()));
  now.addEventListener('click', load);
  schedule();
  await load();
  return () => clearInterval(timer);
}
