import { assertImageType, MAX_BATCH_BODY_BYTES, MAX_BATCH_IMAGES, MAX_BODY_BYTES, mediaTypeOf, readBody } from './body.ts';
import { checkImageSize } from '../inference/decode.ts';
import { HttpError } from '../errors.ts';
import { readImageHeader } from '../inference/image-header.ts';

/**
 * Most pixels the images of one batch may have together (8 MP: 32 images of 512x512, or eight
 * at the per-image limit): about half a second of decoding, so no batch holds an isolate for
 * seconds. Thirty-two 320x240 cell photos are 2.5 MP.
 */
export const MAX_BATCH_PIXELS = 8 * 1024 * 1024;

/** One part of a batch, in request order: its bytes to classify, or why it cannot be. */
interface BatchPart {
  index: number;
  filename: string | null;
  bytes?: Uint8Array;
  error?: HttpError;
}

/**
 * The boundary parameter of a multipart Content-Type, or null. Taken as declared, of any length
 * (RFC 2046 allows 70 characters; a parser may accept more, and the count must not miss them).
 */
export function multipartBoundary(contentType: string): string | null {
  const match = /;\s*boundary\s*=\s*(?:"((?:[^"\\]|\\.)+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1]?.replace(/\\(.)/g, '$1') ?? match[2]) : null;
}

/**
 * Counts the occurrences of `--<boundary>` in bytes shown to it in order, in any slices, up to
 * `stop`. Every part starts with one and the closing delimiter is one more, so this bounds the
 * parts while the body is read, before it is parsed. Knuth-Morris-Pratt: linear in the body
 * whatever boundary and bytes a client chooses.
 *
 * @example
 * const count = delimiterCounter('xyz', 34);
 * count(firstSlice); count(secondSlice); // 3 for two parts and the closing delimiter
 */
export function delimiterCounter(boundary: string, stop: number): (slice: Uint8Array) => number {
  const pattern = new TextEncoder().encode(`--${boundary}`);
  const fallback = new Int32Array(pattern.length);
  for (let i = 1, k = 0; i < pattern.length; i++) {
    while (k > 0 && pattern[i] !== pattern[k]) k = fallback[k - 1];
    if (pattern[i] === pattern[k]) k++;
    fallback[i] = k;
  }
  let found = 0;
  let k = 0;
  return (slice) => {
    for (let i = 0; i < slice.length && found < stop; i++) {
      while (k > 0 && slice[i] !== pattern[k]) k = fallback[k - 1];
      if (slice[i] === pattern[k]) k++;
      if (k === pattern.length) {
        found++;
        k = fallback[k - 1];
      }
    }
    return found;
  };
}

async function partOf(index: number, value: File | string): Promise<BatchPart> {
  const filename = typeof value === 'string' ? null : value.name || null;
  try {
    if (typeof value === 'string') throw new HttpError('not_a_file', 'this part is a text field, not an image file');
    // Browsers and curl label files by extension; an unlabelled part is judged by its bytes.
    const partType = mediaTypeOf(value.type);
    if (partType && partType !== 'application/octet-stream') assertImageType(partType, 'this part');
    if (value.size === 0) throw new HttpError('empty_body', 'this part is empty');
    if (value.size > MAX_BODY_BYTES) {
      throw new HttpError('body_too_large', `this part is ${value.size} bytes; at most ${MAX_BODY_BYTES} are accepted`);
    }
    return { index, filename, bytes: new Uint8Array(await value.arrayBuffer()) };
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { index, filename, error };
  }
}

/** The image's pixel count from its header, or 0 with the part's error set (undecodable, too large). */
function pixelsOf(part: BatchPart): number {
  if (!part.bytes) return 0;
  try {
    return checkImageSize(readImageHeader(part.bytes));
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    part.error = error;
    delete part.bytes;
    return 0;
  }
}

/**
 * Reads a multipart batch and bounds, before any image is decoded, the work it can cause: at
 * most MAX_BATCH_IMAGES parts, counted in the raw body as it is read (a body of 200,000 tiny
 * parts once took seconds to parse just to be refused); each image's header within the
 * per-image limits (else that part's own error); and the images' pixels together within
 * MAX_BATCH_PIXELS, else the batch is refused whole (413).
 *
 * @example
 * const parts = await readBatch(c.req.raw); // [{ index: 0, filename: 'a.jpeg', bytes }, { index: 1, filename: null, error }]
 */
export async function readBatch(request: Request): Promise<BatchPart[]> {
  const contentType = request.headers.get('content-type')!;
  const boundary = multipartBoundary(contentType);
  const count = boundary ? delimiterCounter(boundary, MAX_BATCH_IMAGES + 2) : null;
  const body = await readBody(request, MAX_BATCH_BODY_BYTES, (slice) => {
    if (count && count(slice) > MAX_BATCH_IMAGES + 1) {
      throw new HttpError('too_many_images', `the batch has more than ${MAX_BATCH_IMAGES} parts; at most ${MAX_BATCH_IMAGES} are accepted`);
    }
  });
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch (error) {
    throw new HttpError('invalid_multipart', `the multipart body could not be parsed: ${(error as Error).message}`);
  }
  const entries = [...form.values()];
  if (!entries.length) throw new HttpError('empty_batch', 'the batch has no parts; send one image per part');
  if (entries.length > MAX_BATCH_IMAGES) {
    throw new HttpError('too_many_images', `the batch has ${entries.length} parts; at most ${MAX_BATCH_IMAGES} are accepted`);
  }
  const parts = await Promise.all(entries.map((value, index) => partOf(index, value)));
  const pixels = parts.reduce((n, part) => n + pixelsOf(part), 0);
  if (pixels > MAX_BATCH_PIXELS) {
    throw new HttpError('batch_too_large', `the batch's images have ${pixels} pixels together; at most ${MAX_BATCH_PIXELS} (8 MP) per batch are accepted: send fewer or smaller images`);
  }
  return parts;
}
