import { nextTurn } from '../clock.ts';
import { HttpError, quoted } from '../errors.ts';

/** Largest single-image request body. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Largest batch request body (parts are also held to MAX_BODY_BYTES each). */
export const MAX_BATCH_BODY_BYTES = 32 * 1024 * 1024;
export const MAX_BATCH_IMAGES = 32;

/** Content types a device may send an image as; the bytes' own signature picks the decoder. */
const IMAGE_TYPES = ['image/jpeg', 'image/jpg', 'image/png', 'image/webp'] as const;

/** `type/subtype` of a Content-Type header, lower case, parameters dropped. */
export function mediaTypeOf(header: string | null | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

export function assertImageType(header: string | null | undefined, where = 'the request'): void {
  const type = mediaTypeOf(header);
  if (!(IMAGE_TYPES as readonly string[]).includes(type)) {
    throw new HttpError('unsupported_media_type', 
      `${where} has Content-Type ${type ? quoted(type) : '(none)'}; send the image bytes as image/jpeg, image/png or image/webp`,
    );
  }
}

/**
 * Bytes read, and shown to a body's inspector, between turns of the event loop: a body that is
 * already in memory arrives without any other wait, and copying and scanning 32 MiB in one go
 * held the isolate for a tenth of a second.
 */
const SLICE_BYTES = 1 << 20;

/**
 * Reads a request body, refusing it (413) as soon as it passes `maxBytes`, whether or not
 * Content-Length announced the size; an empty body is 400. `inspect` sees the bytes as they
 * arrive, a slice of at most 1 MiB at a time, and stops the read by throwing.
 *
 * @example
 * const bytes = await readBody(c.req.raw, MAX_BODY_BYTES);
 */
export async function readBody(request: Request, maxBytes: number, inspect?: (slice: Uint8Array) => void): Promise<Uint8Array> {
  const tooLarge = (size: string) =>
    new HttpError('body_too_large', `request body is ${size}; at most ${maxBytes} bytes (${maxBytes / 1048576} MiB) are accepted`);
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge(`${declared} bytes`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  let sinceTurn = 0;
  if (request.body) {
    const reader = request.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > maxBytes) throw tooLarge(`over ${maxBytes} bytes`);
        for (let at = 0; at < value.length; at += SLICE_BYTES) {
          const slice = value.subarray(at, at + SLICE_BYTES);
          inspect?.(slice);
          sinceTurn += slice.length;
          if (sinceTurn >= SLICE_BYTES) {
            sinceTurn = 0;
            await nextTurn();
          }
        }
        chunks.push(value);
      }
    } catch (error) {
      await reader.cancel().catch(() => undefined);
      throw error;
    }
  }
  if (size === 0) throw new HttpError('empty_body', 'the request body is empty; send the image bytes');
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
