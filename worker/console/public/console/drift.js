// @ts-check
import { legend, lineChart, stackedBars } from './chart.js';
import { figure, h, tableBox, when } from './dom.js';
import { percent } from './format.js';

const OUT_OF_DOMAIN = '#b91c1c';
const LOW_CONFIDENCE = '#d97706';
const SCORE = '#2563eb';
const REFERENCE = '#0f172a';
const CLASS_COLOURS = ['#2563eb', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#64748b'];

/** 21600 -> "6 h". @param {number} seconds */
function span(seconds) {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

/** @param {any} rule the drift's `alert` */
const ruleText = (rule) => `An alert is raised when more than ${percent(rule.level)} of at least ${rule.minAnswers} answers from a device were out of domain in the last ${span(rule.windowSeconds)}.`;

/** @param {any} window a DriftFigures */
const windowText = (window) => `${percent(window.reasons.out_of_domain)} of ${window.answers} answers out of domain`;

/** @param {any} entry a DeviceDrift @param {any} rule */
function badge(entry, rule) {
  if (entry.alert) return h('span', { class: 'badge bad' }, 'Drift alert');
  if (!entry.window || entry.window.answers < rule.minAnswers) return h('span', { class: 'badge' }, 'Too few answers to judge');
  return h('span', { class: 'badge good' }, 'No alert');
}

/** @param {any[]} series @param {TimeAxis} axis @param {string} key @param {Set<string>} opened */
function bucketTable(series, axis, key, opened) {
  const classes = [...new Set(series.flatMap((b) => Object.keys(b.classes)))].sort();
  return h('details', { 'data-key': key, open: opened.has(key) }, h('summary', {}, `Figures per ${span(axis.bucketMs / 1000)}`), tableBox(h('table', { class: 'plain' },
    h('thead', {}, h('tr', {}, ['From', 'Answers', 'Out of domain', 'Low confidence', 'Mean domain score', ...classes].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, series.map((b) => h('tr', {},
      h('th', { scope: 'row' }, when(b.start)), h('td', {}, b.answers), h('td', {}, percent(b.reasons.out_of_domain)), h('td', {}, percent(b.reasons.low_confidence)),
      h('td', {}, b.meanDomainScore ?? '–'), classes.map((c) => h('td', {}, b.classes[c] ?? 0)),
    ))),
  )));
}

/**
 * @typedef {import('./chart.js').TimeAxis} TimeAxis
 * @typedef {{ series: any[], name: string, axis: TimeAxis, rule: any }} ChartInput
 */

const startOf = (/** @type {any} */ bucket) => Date.parse(bucket.start);

/** The flagged shares per bucket against the alert level. @param {ChartInput} input */
function flaggedChart({ series, name, axis, rule }) {
  const share = (/** @type {string} */ reason) => series.map((b) => ({ t: startOf(b), v: b.reasons[reason], title: `${percent(b.reasons[reason])} of ${b.answers} from ${when(b.start)}` }));
  return [
    h('h4', {}, 'Flagged for review'),
    lineChart({ axis, max: 1, label: `${name}: share of answers flagged out of domain and low confidence over time`, reference: { value: rule.level, label: `alert level ${percent(rule.level)}` },
      lines: [{ label: 'Low confidence', colour: LOW_CONFIDENCE, points: share('low_confidence') }, { label: 'Out of domain', colour: OUT_OF_DOMAIN, points: share('out_of_domain') }] }),
    legend([{ label: 'Out of domain', colour: OUT_OF_DOMAIN }, { label: 'Low confidence', colour: LOW_CONFIDENCE }, { label: `Alert level (${percent(rule.level)})`, colour: REFERENCE, dashed: true }]),
  ];
}

/** The mean domain score per bucket against the domain's edge. @param {ChartInput} input */
function scoreChart({ series, name, axis }) {
  const scored = series.filter((b) => b.meanDomainScore !== null);
  if (!scored.length) return [h('h4', {}, 'Mean domain score'), h('p', { class: 'muted' }, 'This version has no domain profile.')];
  const max = Math.max(2, ...scored.map((b) => Math.ceil(b.meanDomainScore)));
  return [
    h('h4', {}, 'Mean domain score'),
    lineChart({ axis, max, label: `${name}: mean domain score over time`, reference: { value: 1, label: 'edge of the domain (1)' },
      lines: [{ label: 'Mean domain score', colour: SCORE, points: scored.map((b) => ({ t: startOf(b), v: b.meanDomainScore, title: `${b.meanDomainScore} from ${when(b.start)}` })) }] }),
    legend([{ label: `Mean domain score (0 to ${max})`, colour: SCORE }, { label: 'Edge of the domain (1)', colour: REFERENCE, dashed: true }]),
  ];
}

/** The predicted classes per bucket. @param {ChartInput} input */
function mixChart({ series, name, axis }) {
  const classes = [...new Set(series.flatMap((b) => Object.keys(b.classes)))].sort();
  const count = (/** @type {any} */ b, /** @type {string} */ c) => b.classes[c] ?? 0;
  return [
    h('h4', {}, 'Class mix'),
    stackedBars({ axis, colours: CLASS_COLOURS, label: `${name}: predicted classes per ${span(axis.bucketMs / 1000)}`,
      stacks: series.map((b) => ({ t: startOf(b), parts: classes.map((c) => count(b, c)), title: `${when(b.start)}: ${classes.map((c) => `${c} ${count(b, c)}`).join(', ')}` })) }),
    legend(classes.map((c, i) => ({ label: c, colour: CLASS_COLOURS[i % CLASS_COLOURS.length] }))),
  ];
}

/** @param {any} entry a DeviceDrift @param {any} rule @param {TimeAxis} axis @param {Set<string>} opened */
function driftCard(entry, rule, axis, opened) {
  const series = /** @type {any[]} */ (entry.series);
  const input = { series, name: `${entry.device} (${entry.version})`, axis, rule };
  const w = entry.window;
  const charts = series.length
    ? [
        ...flaggedChart(input), ...scoreChart(input), ...mixChart(input),
        h('p', { class: 'chart-axis muted' }, h('span', {}, when(new Date(axis.from).toISOString())), h('span', {}, when(new Date(axis.to).toISOString()))),
        bucketTable(series, axis, JSON.stringify([entry.device, entry.version]), opened),
      ]
    : [h('p', { class: 'muted' }, 'No answers in this time window; the alert looks at its own window.')];
  return h('article', { class: `card drift${entry.alert ? ' alert' : ''}`, 'data-device': entry.device, 'data-version': entry.version, 'data-alert': String(entry.alert) },
    h('div', { class: 'card-head' }, h('h3', {}, entry.device), h('span', { class: 'muted' }, `version ${entry.version}`), h('div', { class: 'badges' }, badge(entry, rule))),
    h('dl', { class: 'figures' },
      figure(`Last ${span(rule.windowSeconds)}`, w ? String(w.answers) : '0', 'answers'),
      figure('Out of domain', percent(w?.reasons.out_of_domain), w ? `mean score ${w.meanDomainScore ?? '–'}` : undefined),
      figure('Low confidence', percent(w?.reasons.low_confidence)),
    ),
    charts,
  );
}

/**
 * The Live view's drift section: the alert state (announced when a device is in alert), then per
 * device and version the flagged shares, mean domain score and class mix over the chosen window.
 * @param {any} drift the `drift` of GET /v1/stats
 * @param {number | null} sinceMs the window's start, null for all time
 * @param {string} generatedAt
 * @param {Set<string>} opened keys of the figure tables to show open
 */
export function driftSection(drift, sinceMs, generatedAt, opened) {
  const bucketMs = drift.bucketSeconds * 1000;
  const starts = drift.devices.flatMap((/** @type {any} */ d) => d.series.map((/** @type {any} */ b) => Date.parse(b.start)));
  const from = Math.floor((sinceMs ?? Math.min(Date.parse(generatedAt), ...starts)) / bucketMs) * bucketMs;
  const axis = { from, to: Math.floor(Date.parse(generatedAt) / bucketMs) * bucketMs + bucketMs, bucketMs };
  const alerting = /** @type {any[]} */ (drift.devices).filter((d) => d.alert);
  const status = alerting.length
    ? h('div', { class: 'message error', role: 'alert', id: 'drift-status', 'data-alerting': drift.alerting.join(' ') },
        h('strong', {}, `Drift alert: ${drift.alerting.join(', ')}. `), alerting.map((d) => `${d.device} (${d.version}): ${windowText(d.window)}. `), 'Check its camera, magnification and stain.')
    : h('p', { class: 'message ok', id: 'drift-status', 'data-alerting': '' }, drift.devices.length ? 'No device in alert.' : 'No answers from any device yet.');
  const entries = [...drift.devices].sort((a, b) => Number(b.alert) - Number(a.alert));
  return [
    h('h3', { class: 'section-title' }, 'Drift per device'),
    h('p', { class: 'muted' }, `${ruleText(drift.alert)} Charts: per ${span(drift.bucketSeconds)}, over the time window above.`),
    status,
    h('div', { class: 'cards' }, entries.map((entry) => driftCard(entry, drift.alert, axis, opened))),
  ];
}
