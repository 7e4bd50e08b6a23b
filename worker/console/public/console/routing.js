// @ts-check
import { explain, getJson } from './api.js';
import { bar, h, messageArea, tableBox, viewHeading, when } from './dom.js';

/** @param {Record<string, number>} split */
const splitText = (split) => Object.entries(split).map(([v, w]) => `${v} ${w}%`).join(', ');

/** @param {any} routing the configuration in force, or null @param {string | undefined} fallback the default version */
function inForce(routing, fallback) {
  if (!routing) {
    return h('section', { class: 'card', 'aria-labelledby': 'in-force' }, h('h3', { id: 'in-force' }, 'In force'),
      h('p', {}, `No routing is set: every request goes to the default version${fallback ? `, ${fallback}` : ''}.`));
  }
  return h('section', { class: 'card', 'aria-labelledby': 'in-force', 'data-routing-id': routing.id },
    h('h3', { id: 'in-force' }, 'In force'),
    h('div', { class: 'bars' }, Object.entries(routing.split).map(([v, w]) => bar(v, /** @type {number} */ (w) / 100, `${w}%`))),
    h('p', {}, 'Shadow: ', h('strong', {}, routing.shadow ?? 'none'), routing.shadow ? ' (run on every request after the response; its answer is only recorded)' : ''),
    h('p', { class: 'muted' }, `Change #${routing.id} (${routing.action}) by ${routing.changedBy}, ${when(routing.changedAt)}. Devices are ${routing.sticky ? 'sticky: each keeps its version while the weights stay' : 'drawn per request'}.`),
  );
}

/** @param {any[]} history */
function historyTable(history) {
  if (!history.length) return h('p', { class: 'muted' }, 'No change yet.');
  return tableBox(h('table', { class: 'plain history' },
    h('caption', {}, 'History, newest first'),
    h('thead', {}, h('tr', {}, ['#', 'Action', 'Split', 'Shadow', 'By', 'When'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, history.map((r) => h('tr', {}, h('td', {}, r.id), h('td', {}, r.action), h('td', {}, splitText(r.split)), h('td', {}, r.shadow ?? '–'), h('td', {}, r.changedBy), h('td', {}, when(r.changedAt))))),
  ));
}

/**
 * One version's weight: a slider and a number field kept equal.
 * @param {string} version @param {number} weight @param {() => void} changed
 */
function weightRow(version, weight, changed) {
  const id = `w-${version}`;
  const range = h('input', { type: 'range', min: '0', max: '100', step: '1', value: String(weight), 'aria-label': `${version} weight (slider)` });
  const number = h('input', { type: 'number', id, name: version, min: '0', max: '100', step: '1', value: String(weight), inputmode: 'numeric', class: 'weight' });
  range.addEventListener('input', () => ((number.value = range.value), changed()));
  number.addEventListener('input', () => ((range.value = number.value), changed()));
  return h('div', { class: 'weight-row' }, h('label', { for: id }, version), range, number, h('span', { 'aria-hidden': 'true' }, '%'));
}

/**
 * @param {HTMLElement} root
 * @param {{ text: string, kind: 'ok' | 'error' }} [outcome] of the change that rebuilt the view
 */
export async function showRouting(root, outcome) {
  root.append(...viewHeading('Routing', 'Which versions answer, with what share of devices, and which one runs in the shadow.'));
  const [{ routing, history }, { models }] = await Promise.all([getJson('/v1/routing'), getJson('/v1/models')]);
  const fallback = models.find((/** @type {any} */ m) => m.default)?.version;
  const candidates = models.filter((/** @type {any} */ m) => m.status !== 'incomplete').map((/** @type {any} */ m) => m.version);
  const current = routing?.split ?? (fallback ? { [fallback]: 100 } : {});

  const message = messageArea();
  const total = h('output', { class: 'total', 'aria-live': 'polite' });
  const updateTotal = () => {
    const sum = [...form.querySelectorAll('input.weight')].reduce((n, el) => n + Number(/** @type {HTMLInputElement} */ (el).value || 0), 0);
    total.textContent = `Total: ${sum}%${sum === 100 ? '' : ' (the API accepts only 100)'}`;
    total.classList.toggle('off', sum !== 100);
  };
  const shadow = h('select', { id: 'shadow', name: 'shadow' }, h('option', { value: '' }, 'none'), candidates.map((/** @type {string} */ v) => h('option', { value: v, selected: routing?.shadow === v }, v)));
  const apply = h('button', { type: 'submit' }, 'Apply');
  const form = h('form', { class: 'card', 'aria-labelledby': 'change-split', novalidate: true },
    h('h3', { id: 'change-split' }, 'Change the split'),
    h('fieldset', {}, h('legend', {}, 'Weights: integer percentages summing to 100 (0 leaves a version out)'),
      candidates.map((/** @type {string} */ v) => weightRow(v, current[v] ?? 0, updateTotal)), total),
    h('div', { class: 'field' }, h('label', { for: 'shadow' }, 'Shadow version'), shadow),
    h('div', { class: 'actions' }, apply),
  );
  updateTotal();

  const rollback = h('button', { type: 'button', class: 'secondary', disabled: !routing }, 'Roll back to the previous configuration');
  root.append(message.el, h('div', { class: 'two-col' }, inForce(routing, fallback), form), h('section', { class: 'card', 'aria-labelledby': 'history' },
    h('h3', { id: 'history' }, 'History'), h('p', {}, rollback), historyTable(history)));

  if (outcome) {
    message.show(outcome.text, outcome.kind);
    // The form that had focus was rebuilt: put focus on the outcome.
    message.el.tabIndex = -1;
    message.el.focus();
  }
  const refresh = async (/** @type {string} */ text, /** @type {'ok' | 'error'} */ kind) => {
    root.replaceChildren();
    await showRouting(root, { text, kind });
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    /** @type {Record<string, number>} */
    const split = {};
    for (const el of form.querySelectorAll('input.weight')) {
      const input = /** @type {HTMLInputElement} */ (el);
      // Sent as typed, so the API (not the page) judges it and its refusal is what the user sees.
      if (input.value !== '0') split[input.name] = input.value === '' ? NaN : Number(input.value);
    }
    apply.disabled = true;
    message.show('Applying…');
    try {
      const result = await getJson('/v1/routing', { method: 'PUT', json: { split, shadow: shadow.value || null } });
      await refresh(`Applied: ${splitText(result.routing.split)}${result.routing.shadow ? `, shadow ${result.routing.shadow}` : ''} is now in force (change #${result.routing.id}).`, 'ok');
    } catch (error) {
      apply.disabled = false;
      const kept = routing ? `${splitText(routing.split)} (change #${routing.id})` : 'the default version';
      message.show(`${explain(error)} Nothing was changed: ${kept} is still in force.`, 'error');
    }
  });

  rollback.addEventListener('click', async () => {
    if (!window.confirm('Restore the routing configuration that was in force before the current one?')) return;
    try {
      const result = await getJson('/v1/routing/rollback', { method: 'POST' });
      await refresh(`Rolled back: ${splitText(result.routing.split)} is in force again (change #${result.routing.id}).`, 'ok');
    } catch (error) {
      message.show(`${explain(error)} Nothing was changed.`, 'error');
    }
  });
}
