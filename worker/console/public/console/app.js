// @ts-check
import { ApiError, apiEvents, call, explain, session } from './api.js';
import { showDevices } from './devices.js';
import { h } from './dom.js';
import { showLive } from './live.js';
import { showModels } from './models.js';
import { showRouting } from './routing.js';
import { showTry } from './try.js';

/** @typedef {(root: HTMLElement) => Promise<void | (() => void)>} View */

/** @type {Record<string, { title: string, show: View }>} */
const VIEWS = {
  models: { title: 'Models', show: showModels },
  routing: { title: 'Routing', show: showRouting },
  live: { title: 'Live', show: showLive },
  try: { title: 'Try it', show: showTry },
  devices: { title: 'Devices', show: showDevices },
};

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const signInSection = $('sign-in');
const signInForm = /** @type {HTMLFormElement} */ ($('sign-in-form'));
const tokenField = /** @type {HTMLInputElement} */ ($('token'));
const signInError = $('sign-in-error');
const nav = $('nav');
const account = $('account');
const viewRoot = $('view');

/** @type {(() => void) | void} */
let leaveView;
let rendering = 0;

/**
 * Checks a token against an admin-only route before keeping it: a device token is refused
 * there with 403, and then is not kept at all.
 * @param {string} token
 */
async function verify(token) {
  await call('/v1/routing', { token });
}

function showSignIn(/** @type {string} */ why = '') {
  leaveView?.();
  leaveView = undefined;
  session.forget();
  nav.hidden = true;
  account.hidden = true;
  viewRoot.hidden = true;
  viewRoot.replaceChildren();
  signInSection.hidden = false;
  signInError.textContent = why;
  signInError.hidden = !why;
  document.title = 'Sign in · cellsense lab console';
  tokenField.focus();
}

async function render(/** @type {boolean} */ moveFocus) {
  const name = location.hash.slice(1);
  if (name && !(name in VIEWS)) return; // e.g. the skip link's #main: not a view change
  const key = name || 'models';
  const view = VIEWS[key];
  leaveView?.();
  leaveView = undefined;
  for (const link of nav.querySelectorAll('a')) {
    if (link.getAttribute('href') === `#${key}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${view.title} · cellsense lab console`;
  const ticket = ++rendering;
  const root = h('div', { class: 'view', 'aria-busy': 'true' });
  viewRoot.replaceChildren(root);
  try {
    const leave = await view.show(root);
    if (ticket !== rendering) return leave?.(); // the user moved on meanwhile
    leaveView = leave;
  } catch (error) {
    if (ticket !== rendering) return;
    if (error instanceof ApiError && error.status === 401) return; // handled by the sign-out below
    root.append(h('p', { class: 'message error', role: 'alert' }, explain(error)));
  } finally {
    root.setAttribute('aria-busy', 'false');
  }
  if (moveFocus && ticket === rendering) /** @type {HTMLElement | null} */ (root.querySelector('.view-title'))?.focus();
}

function showConsole() {
  signInSection.hidden = true;
  nav.hidden = false;
  account.hidden = false;
  viewRoot.hidden = false;
  void render(false);
}

signInForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = tokenField.value.trim();
  if (!token) return showSignIn('Paste an admin token first (`npm start` prints one).');
  const button = /** @type {HTMLButtonElement} */ (signInForm.querySelector('button'));
  button.disabled = true;
  try {
    await verify(token);
    session.keep(token);
    tokenField.value = '';
    showConsole();
  } catch (error) {
    const refused = error instanceof ApiError && error.status === 403;
    tokenField.value = '';
    showSignIn(refused
      ? `Not allowed: the API answered 403 (${/** @type {ApiError} */ (error).message}). This is a device token: it can classify images but cannot open the console. Sign in with an admin token; nothing was kept.`
      : explain(error));
  } finally {
    button.disabled = false;
  }
});

$('sign-out').addEventListener('click', () => {
  location.hash = '';
  showSignIn('Signed out; the token was removed from this tab.');
});

apiEvents.addEventListener('unauthorized', (event) => {
  const error = /** @type {CustomEvent<ApiError>} */ (event).detail;
  if (session.token()) showSignIn(`Signed out: the API answered 401 (${error.message}). Sign in again with a valid admin token.`);
});

window.addEventListener('hashchange', () => {
  if (session.token()) void render(true);
});

// A token kept from earlier in this tab is checked again: it may have been revoked meanwhile.
const kept = session.token();
if (!kept) showSignIn();
else {
  verify(kept).then(showConsole, (error) => showSignIn(explain(error)));
}
