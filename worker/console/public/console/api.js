// @ts-check
// The admin API as the console uses it: the token lives in this tab's sessionStorage only
// (gone when the tab closes, never in a URL, never in localStorage or a cookie).

const KEY = 'cellsense.adminToken';

export const session = {
  /** @returns {string | null} */
  token: () => sessionStorage.getItem(KEY),
  /** @param {string} token */
  keep: (token) => sessionStorage.setItem(KEY, token),
  forget: () => sessionStorage.removeItem(KEY),
};

/** An API refusal, with the status and the `{"error": {"code", "message"}}` the Worker sent. */
export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Told about every 401, so the console can sign out when its token was revoked. */
export const apiEvents = new EventTarget();

/**
 * @typedef {object} CallOptions
 * @property {string} [method]
 * @property {unknown} [json] sent as application/json
 * @property {Blob} [body] sent as is, with its own type
 * @property {Record<string, string>} [headers]
 * @property {string} [token] instead of the session's (signing in)
 * @property {number} [timeoutMs] give up after this long (default 30 s), so a request that never
 *   answers cannot leave a view waiting for good
 */

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Calls the Worker's API; resolves with the Response when it is 2xx, else throws an ApiError
 * carrying the API's own message.
 * @param {string} path
 * @param {CallOptions} [options]
 * @returns {Promise<Response>}
 */
export async function call(path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { ...options.headers };
  const token = options.token ?? session.token();
  if (token) headers.authorization = `Bearer ${token}`;
  /** @type {BodyInit | undefined} */
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.body) {
    headers['content-type'] = options.body.type || 'application/octet-stream';
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let res;
  try {
    res = await fetch(path, {
      method: options.method ?? 'GET', headers, body, cache: 'no-store', credentials: 'omit', signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    if (/** @type {Error} */ (error).name === 'TimeoutError') {
      throw new ApiError(0, 'timeout', `the Worker did not answer within ${timeoutMs / 1000} s; the request was given up`);
    }
    throw new ApiError(0, 'network', `the Worker could not be reached (${/** @type {Error} */ (error).message})`);
  }
  if (res.ok) return res;
  let code = `http_${res.status}`;
  let message = res.statusText || 'request refused';
  try {
    const payload = await res.json();
    code = payload.error.code;
    message = payload.error.message;
  } catch {
    // not the API's JSON envelope: keep the status line
  }
  const error = new ApiError(res.status, code, message);
  if (res.status === 401) apiEvents.dispatchEvent(new CustomEvent('unauthorized', { detail: error }));
  throw error;
}

/**
 * The JSON body of an answer from `call`. Its timeout covers the body too, so an answer that
 * starts and then stalls is given up with a message like a request that never answers.
 * @param {Response} res
 * @param {number} [timeoutMs] the one `call` was given
 * @returns {Promise<any>}
 */
export async function readJson(res, timeoutMs = DEFAULT_TIMEOUT_MS) {
  try {
    return await res.json();
  } catch (error) {
    // Chromium rejects a body read cut short by the signal with an AbortError, not its reason; the
    // timeout is the only signal `call` gives.
    if (['TimeoutError', 'AbortError'].includes(/** @type {Error} */ (error).name)) {
      throw new ApiError(0, 'timeout', `the Worker did not finish its answer within ${timeoutMs / 1000} s; the request was given up`);
    }
    throw new ApiError(0, 'bad_response', `the Worker's answer could not be read (${/** @type {Error} */ (error).message})`);
  }
}

/**
 * GET (or another method) and parse the JSON answer.
 * @param {string} path
 * @param {CallOptions} [options]
 * @returns {Promise<any>}
 */
export async function getJson(path, options) {
  const res = await call(path, options);
  return res.status === 204 ? null : readJson(res, options?.timeoutMs);
}

/**
 * What to tell the user about a failure, in words, quoting the API.
 * @param {unknown} error
 * @returns {string}
 */
export function explain(error) {
  if (!(error instanceof ApiError)) return `Something went wrong in the page: ${String(error)}`;
  if (error.status === 403) {
    return `Not allowed: the API answered 403 (${error.message}). The console needs an admin token; device tokens can only classify images.`;
  }
  if (error.status === 401) return `Not signed in: the API answered 401 (${error.message}).`;
  if (error.status === 0) return error.message;
  return `The API refused: ${error.status} ${error.code}: ${error.message}`;
}
