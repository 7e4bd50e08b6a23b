// @ts-check
import { call, explain, getJson } from './api.js';
import { h, messageArea, tableBox, viewHeading, when } from './dom.js';

/** The new token, shown this once: only its hash is stored, so it cannot be shown again. @param {any} device */
function tokenPanel(device) {
  const field = h('input', { type: 'text', id: 'new-token', readonly: true, value: device.token, spellcheck: 'false', autocomplete: 'off', class: 'token' });
  const copied = h('span', { role: 'status', class: 'muted' });
  const copy = h('button', { type: 'button' }, 'Copy token');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(device.token);
      copied.textContent = 'Copied to the clipboard.';
    } catch {
      field.select();
      copied.textContent = 'The browser refused the clipboard: the token is selected, press Ctrl+C.';
    }
  });
  return h('section', { class: 'card token-panel', 'aria-labelledby': 'token-title' },
    h('h3', { id: 'token-title' }, `Token for ${device.name}${device.admin ? ' (admin)' : ''}`),
    h('p', { class: 'message warn' }, 'Shown this once: copy it now and put it on the device. Only its hash is kept; if it is lost, revoke the device and provision it again.'),
    h('div', { class: 'copy-row' }, h('label', { for: 'new-token', class: 'visually-hidden' }, 'New token'), field, copy), copied,
  );
}

/** @param {any[]} devices @param {(name: string) => void} revoke */
function deviceTable(devices, revoke) {
  if (!devices.length) return h('p', { class: 'muted' }, 'No device has an active token.');
  return tableBox(h('table', { class: 'plain devices' },
    h('caption', {}, `${devices.length} active device${devices.length === 1 ? '' : 's'}, newest first`),
    h('thead', {}, h('tr', {}, ['Name', 'Role', 'May pin', 'Token issued', ''].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, devices.map((d) => h('tr', { 'data-device': d.name },
      h('th', { scope: 'row' }, d.name), h('td', {}, d.admin ? 'admin' : 'device'), h('td', {}, d.pins.join(', ') || '–'), h('td', {}, when(d.createdAt)),
      h('td', {}, h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${d.name}`, onclick: () => revoke(d.name) }, 'Revoke'))))),
  ));
}

/** @param {HTMLElement} root */
export async function showDevices(root) {
  root.append(...viewHeading('Devices', 'Lab devices and the tokens they classify with. A revoked token stops working at once.'));
  const message = messageArea();
  const name = h('input', { id: 'device-name', name: 'name', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}', autocomplete: 'off', 'aria-describedby': 'device-name-help' });
  const admin = h('input', { type: 'checkbox', id: 'device-admin' });
  const pins = h('input', { id: 'device-pins', autocomplete: 'off', placeholder: 'e.g. v2 or *', 'aria-describedby': 'device-pins-help' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'provision', novalidate: true },
    h('h3', { id: 'provision' }, 'Provision a device'),
    h('div', { class: 'field' }, h('label', { for: 'device-name' }, 'Name'), name, h('small', { id: 'device-name-help' }, 'Letters, digits, ".", "_" or "-", e.g. analyser-3.')),
    h('div', { class: 'field' }, h('label', { for: 'device-pins' }, 'Versions it may pin (optional)'), pins, h('small', { id: 'device-pins-help' }, 'Comma-separated; "*" for any. Others answer as routed.')),
    h('div', { class: 'field inline' }, admin, h('label', { for: 'device-admin' }, 'Admin token (can use this console and change the routing)')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Provision')),
  );
  const panel = h('div', {});
  const list = h('div', {});
  root.append(message.el, h('div', { class: 'two-col' }, form, panel), h('section', { class: 'card', 'aria-labelledby': 'device-list' }, h('h3', { id: 'device-list' }, 'Active devices'), list));

  const load = async () => list.replaceChildren(deviceTable((await getJson('/v1/devices')).devices, revoke));
  /** @param {string} device */
  const revoke = async (device) => {
    if (!window.confirm(`Revoke the token of ${device}? It stops working at once.`)) return;
    try {
      await call(`/v1/devices/${encodeURIComponent(device)}`, { method: 'DELETE' });
      await load();
      message.show(`${device} is revoked: its token is refused from now on.`, 'ok');
    } catch (error) {
      message.show(explain(error), 'error');
    }
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    panel.replaceChildren();
    try {
      const pinList = pins.value.split(',').map((p) => p.trim()).filter(Boolean);
      const device = await getJson('/v1/devices', { method: 'POST', json: { name: name.value.trim(), admin: admin.checked, pins: pinList } });
      panel.append(tokenPanel(device));
      form.reset();
      await load();
      message.show(`${device.name} is provisioned.`, 'ok');
    } catch (error) {
      message.show(explain(error), 'error');
    }
  });
  await load();
}
