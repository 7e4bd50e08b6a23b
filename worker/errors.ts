/** Every error code the API answers with, and the HTTP status it goes with. */
const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_image: 400,
  empty_body: 400,
  empty_batch: 400,
  invalid_multipart: 400,
  not_a_file: 400,
  too_many_images: 400,
  invalid_device_name: 400,
  invalid_pins: 400,
  invalid_since: 400,
  invalid_bucket: 400,
  conflicting_version: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  model_not_found: 404,
  device_not_found: 404,
  prediction_not_found: 404,
  report_not_found: 404,
  device_exists: 409,
  feedback_conflict: 409,
  nothing_to_roll_back: 409,
  routing_conflict: 409,
  body_too_large: 413,
  batch_too_large: 413,
  image_too_large: 413,
  unsupported_media_type: 415,
  // Well-formed input that names something that cannot be used (an unknown class, a bad split).
  invalid_split: 422,
  unknown_label: 422,
  unknown_version: 422,
  incomplete_version: 422,
  unverified_version: 422,
  rate_limited: 429,
  internal_error: 500,
  // A stored model version that cannot be served (integrity failure, bad manifest, wrong shape).
  backend_unavailable: 503,
  model_integrity: 503,
  model_invalid: 503,
  no_model: 503,
  no_healthy_version: 503,
  store_unavailable: 503,
} as const;

type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * An error the API reports to clients: a stable `code` and the status the code table gives it.
 * `app.onError` turns it into `{"error": {"code", "message"}}`; anything else is a bug and
 * becomes a generic 500.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: (typeof ERROR_STATUS)[ErrorCode];
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds until a rate-limit window ends, sent as Retry-After. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
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
