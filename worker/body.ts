import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError, quoted } from './errors.ts';

/** Largest single-image request body. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Largest batch request body (parts are also held to MAX_BODY_BYTES each). */
export const MAX_BATCH_BODY_BYTES = 32 * 1024 * 1024;
export const MAX_BATCH_IMAGES = 32;

/** Content types a device may send an image as; the bytes' own signature picks the decoder. */
export const IMAGE_TYPES = ['image/jpeg', 'image/jpg', 'image/png', 'image/webp'] as const;

/** `type/subtype` of a Content-Type header, lower case, parameters dropped. */
export function mediaTypeOf(header: string | null | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

export function assertImageType(header: string | null | undefined, where = 'the request'): void {
  const type = mediaTypeOf(header);
  if (!(IMAGE_TYPES as readonly string[]).includes(type)) {
    throw new UnsupportedMediaTypeError(
      `${where} has Content-Type ${type ? quoted(type) : '(none)'}; send the image bytes as image/jpeg, image/png or image/webp`,
    );
  }
}

/**
 * Reads a request body, refusing it (413) as soon as it passes `maxBytes`, whether or not
 * Content-Length announced the size; an empty body is 400.
 *
 * @example
 * const bytes = await readBody(c.req.raw, MAX_BODY_BYTES);
 */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = (size: string) =>
    new PayloadTooLargeError('body_too_large', `request body is ${size}; at most ${maxBytes} bytes (${maxBytes / 1048576} MiB) are accepted`);
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge(`${declared} bytes`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel();
        throw tooLarge(`over ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  if (size === 0) throw new BadRequestError('empty_body', 'the request body is empty; send the image bytes');
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
