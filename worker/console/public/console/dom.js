// @ts-check
import { percent } from './format.js';
// DOM building without HTML strings: every text from the API goes through text nodes, so a
// device or version name can never become markup (the CSP's Trusted Types enforce it too).

/**
 * @typedef {Node | string | number | null | undefined | false} Child
 * @typedef {Record<string, string | number | boolean | null | undefined | EventListener>} Props
 */

/**
 * Creates an element: `on<event>` props become listeners, `class` the class list, `true` an
 * empty attribute, `false`/null/undefined nothing, anything else an attribute.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === false || value === null || value === undefined) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** @param {string | null | undefined} iso */
export const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '–');

/**
 * A labelled horizontal bar: the number is in the text, the bar only shows it.
 * @param {string} label
 * @param {number} fraction 0..1
 * @param {string} text
 * @param {string} [tone]
 */
export function bar(label, fraction, text, tone = '') {
  const fill = h('span', { class: `fill ${tone}` });
  // CSSOM, not a style attribute: allowed under `style-src 'self'`.
  fill.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return h('div', { class: 'bar-row' }, h('span', { class: 'bar-label' }, label), h('span', { class: 'bar', 'aria-hidden': 'true' }, fill), h('span', { class: 'bar-value' }, text));
}

/**
 * A list of bars, largest first.
 * @param {Record<string, number>} counts
 * @param {string} [tone]
 */
export function distribution(counts, tone) {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (!total) return h('p', { class: 'muted' }, 'none yet');
  return h('div', { class: 'bars' }, rows.map(([label, n]) => bar(label, n / total, `${n} (${percent(n / total, 0)})`, tone)));
}

/**
 * A confusion matrix as a table whose cells are shaded by their share of the row (recall).
 * @param {string} caption
 * @param {string[]} classes
 * @param {number[][]} matrix matrix[i][j]: true class i predicted as j
 */
export function heatMap(caption, classes, matrix) {
  const head = h('tr', {}, h('th', { scope: 'col', class: 'corner' }, 'true \\ predicted'), classes.map((c) => h('th', { scope: 'col' }, c)));
  const rows = matrix.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return h('tr', {}, h('th', { scope: 'row' }, classes[i]), row.map((n, j) => {
      const share = total ? n / total : 0;
      const cell = h('td', { class: i === j ? 'diag' : '', title: `${classes[i]} predicted as ${classes[j]}: ${n} (${percent(share, 0)} of ${total})` }, String(n));
      cell.style.backgroundColor = `rgba(${i === j ? '4, 120, 87' : '194, 65, 12'}, ${(0.08 + share * 0.85).toFixed(3)})`;
      if (share > 0.55) cell.classList.add('dark');
      return cell;
    }));
  });
  return tableBox(h('table', { class: 'heat' }, h('caption', {}, caption), h('thead', {}, head), h('tbody', {}, rows)));
}

/**
 * A table in a box that scrolls sideways when the table is wider than the screen (a phone, many
 * classes), so the page itself never does.
 * @param {HTMLTableElement} table
 */
export const tableBox = (table) => h('div', { class: 'table-box' }, table);

/**
 * A headline figure.
 * @param {string} label
 * @param {Child} value
 * @param {string} [note]
 */
export const figure = (label, value, note) => h('div', { class: 'figure' }, h('dt', {}, label), h('dd', {}, value, note ? h('small', {}, note) : null));

/**
 * A message area: `show(text, kind)` with kind 'error' (announced as an alert) or 'ok'.
 * @returns {{ el: HTMLElement, show: (text: string, kind?: 'error' | 'ok' | 'info') => void, clear: () => void }}
 */
export function messageArea() {
  const el = h('div', { class: 'message', role: 'status', 'aria-live': 'polite', hidden: true });
  return {
    el,
    show(text, kind = 'info') {
      el.hidden = false;
      el.className = `message ${kind}`;
      el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
      el.textContent = text;
    },
    clear() {
      el.hidden = true;
      el.textContent = '';
    },
  };
}

/**
 * A view's heading, focusable so navigation can move focus to it.
 * @param {string} title
 * @param {string} [intro]
 */
export function viewHeading(title, intro) {
  const heading = h('h2', { tabindex: '-1', class: 'view-title' }, title);
  return intro ? [heading, h('p', { class: 'intro' }, intro)] : [heading];
}
