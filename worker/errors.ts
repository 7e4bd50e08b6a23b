/**
 * Errors the API reports to clients. Each carries its HTTP status and a stable `code`;
 * `app.onError` turns them into `{"error": {"code", "message"}}`. Anything else is a bug
 * and becomes a generic 500.
 */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export class BadRequestError extends HttpError {
  constructor(code: string, message: string) {
    super(400, code, message);
  }
}

export class UnauthorizedError extends HttpError {
  constructor(message = 'missing or invalid bearer token') {
    super(401, 'unauthorized', message);
  }
}

export class ForbiddenError extends HttpError {
  constructor(message = 'this route needs an admin token') {
    super(403, 'forbidden', message);
  }
}

export class NotFoundError extends HttpError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

export class ConflictError extends HttpError {
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}

/** Well-formed input that names something that cannot be used (an unknown class, a bad split). */
export class UnprocessableError extends HttpError {
  constructor(code: string, message: string) {
    super(422, code, message);
  }
}

export class PayloadTooLargeError extends HttpError {
  constructor(code: string, message: string) {
    super(413, code, message);
  }
}

export class UnsupportedMediaTypeError extends HttpError {
  constructor(message: string) {
    super(415, 'unsupported_media_type', message);
  }
}

/** Over a token's rate limit; `retryAfter` seconds until its window ends go out as Retry-After. */
export class RateLimitedError extends HttpError {
  constructor(message: string, readonly retryAfter: number) {
    super(429, 'rate_limited', message);
  }
}

/** A stored model version that cannot be served (integrity failure, bad manifest, wrong shape). */
export class ModelUnavailableError extends HttpError {
  constructor(code: string, message: string) {
    super(503, code, message);
  }
}

// Source locations (file:///..., /work/x/y.ts:12:3, node_modules/...) a runtime message may carry;
// a request path the message echoes (/console/app.js) has no line number and is kept.
// The node_modules word starts where a word starts: `\S*node_modules` tried at every offset of a
// long word backtracks over all of it, quadratic in the word's length.
const INTERNAL_PATH = /\(?(?:file:\/\/\S+|(?:\/[\w.@-]+)+\.(?:[cm]?[jt]s|wasm):\d+(?::\d+)?|(?<!\S)\S*?node_modules\/\S*)\)?/g;
const SHOWN = 500;
// Messages echo what a client sent (a device name, a pin), which may be 100 000 characters long.
// Only the first SHOWN are shown, so the patterns never need to look much further; the path
// pattern stays quadratic on a crafted run of "/x/x/x", and a 100 000-character device name held
// the isolate for 23 s before this bound.
const SCANNED = 4 * SHOWN;

/**
 * What a client may see of a message: its first line, without source paths, at most 500
 * characters, so no stack trace or internal path reaches a response.
 *
 * @example
 * publicMessage('bad\n    at f (/work/main/worker/x.ts:1:2)'); // 'bad'
 */
export function publicMessage(message: string): string {
  const end = message.indexOf('\n');
  let line = end === -1 ? message : message.slice(0, end);
  const cut = line.length > SCANNED;
  if (cut) {
    line = line.slice(0, SCANNED);
    // A path the cut splits has lost its line number, so no pattern hides it: drop its start.
    let word = line.length;
    while (word > 0 && !/\s/.test(line[word - 1])) word--;
    if (line.includes('/', word)) line = line.slice(0, word);
  }
  line = line.replace(INTERNAL_PATH, '[internal]').trim();
  if (cut || line.length > SHOWN) return `${line.slice(0, SHOWN - 3)}...`;
  return line || 'request refused';
}

/**
 * A value a client sent, quoted for a message, its start only when it is long: the message's
 * advice (what to send instead) still fits in what publicMessage shows.
 *
 * @example
 * `device name ${quoted(name)} must be 1-64 letters`; // device name "xxxx…" (100000 characters) must be…
 */
export function quoted(value: string, max = 80): string {
  return value.length > max ? `"${value.slice(0, max)}…" (${value.length} characters)` : `"${value}"`;
}

/**
 * The `WWW-Authenticate` challenge of a 401 (RFC 6750): with `error="invalid_token"` when the
 * request sent a bearer token (unknown or revoked), without an error when it sent none.
 *
 * @example
 * bearerChallenge('Bearer cs_x'); // 'Bearer realm="cellsense", error="invalid_token"'
 */
export function bearerChallenge(authorization: string | undefined): string {
  return /^Bearer\s+\S/i.test(authorization ?? '') ? 'Bearer realm="cellsense", error="invalid_token"' : 'Bearer realm="cellsense"';
}

/** The JSON body every error response carries. */
export function errorBody(code: string, message: string) {
  return { error: { code, message: publicMessage(message) } };
}
