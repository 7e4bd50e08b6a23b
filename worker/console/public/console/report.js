// @ts-check
// Opens a version's training report, which the API serves only with the admin token in a header:
// fetch it, then show it as a blob: document. That document inherits this page's policy (no
// script at all beyond this origin's; inline style and data: images, which the report is made of).
import { call, explain, session } from './api.js';

const status = /** @type {HTMLElement} */ (document.getElementById('status'));
const version = decodeURIComponent(location.hash.slice(1));

async function open() {
  if (!version) throw new Error('no version named: open a report from the Models view');
  if (!session.token()) {
    status.textContent = 'Not signed in in this tab: open the report from the console’s Models view after signing in.';
    return;
  }
  const res = await call(`/v1/models/${encodeURIComponent(version)}/report`);
  const html = await res.blob();
  location.replace(URL.createObjectURL(new Blob([html], { type: 'text/html' })));
}

open().catch((error) => {
  status.className = 'message error';
  status.setAttribute('role', 'alert');
  status.textContent = explain(error);
});
