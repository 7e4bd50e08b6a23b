import type { PixelImage } from './image.ts';
import { applyOrientation, exifOrientation } from './orientation.ts';
import { cellBox } from '../cell-window.ts';
import { jpegScaleFor, type PreprocessingParams } from './preprocess.ts';

/** Scale denominators libjpeg's IDCT decodes to directly: 1/1, 1/2, 1/4, 1/8. */
export type JpegScale = 1 | 2 | 4 | 8;

/** A JPEG that libjpeg-turbo refused; the message is libjpeg's own. */
export class JpegDecodeError extends Error {
  override name = 'JpegDecodeError';
}

interface CodecExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  cs_input(size: number): number;
  cs_header(): number;
  cs_decode(scale: number): number;
  cs_pixels(): number;
  cs_width(): number;
  cs_height(): number;
  cs_warnings(): number;
  cs_message(): number;
}

/** Past this, an instance is replaced after use: wasm memory never shrinks, and one large photo should not hold it. */
const KEEP_MEMORY_BYTES = 32 * 1024 * 1024;

function instantiate(module: WebAssembly.Module): CodecExports {
  let memory: WebAssembly.Memory | undefined;
  // The C library asks for its environment (libjpeg's JPEGMEM); there is none to give.
  const environSizes = (count: number, size: number) => {
    const view = new DataView(memory!.buffer);
    view.setUint32(count, 0, true);
    view.setUint32(size, 0, true);
    return 0;
  };
  const instance = new WebAssembly.Instance(module, {
    wasi_snapshot_preview1: { environ_sizes_get: environSizes, environ_get: () => 0 },
    env: { emscripten_notify_memory_growth: () => {} },
  });
  const codec = instance.exports as unknown as CodecExports;
  memory = codec.memory;
  codec._initialize();
  return codec;
}

export interface JpegDecoder {
  /** The stored size, from the header alone. */
  header(bytes: Uint8Array): { width: number; height: number };
  /** 8-bit RGB, scaled by 1/`scale` inside the IDCT. EXIF orientation is not applied. */
  decode(bytes: Uint8Array, scale?: JpegScale): PixelImage;
}

/**
 * libjpeg-turbo (shared/jpeg/jpeg-decoder.wasm) behind a small API. Trainer and Worker both
 * decode JPEG with it, so a model sees in production the pixels it was trained on. At full
 * scale its pixels equal sharp's (the same library, default IDCT and upsampling).
 *
 * @example
 * const decoder = createJpegDecoder(new WebAssembly.Module(wasmBytes));
 * const image = decoder.decode(bytes, 2); // 160x120 RGB from a 320x240 photo
 */
export function createJpegDecoder(module: WebAssembly.Module): JpegDecoder {
  let codec: CodecExports | undefined;
  const run = <T>(bytes: Uint8Array, step: (c: CodecExports) => T): T => {
    const c = (codec ??= instantiate(module));
    try {
      new Uint8Array(c.memory.buffer, c.cs_input(bytes.length), bytes.length).set(bytes);
      return step(c);
    } catch (error) {
      if (error instanceof JpegDecodeError) throw error;
      // A libjpeg error traps the instance midway; it is not reused.
      codec = undefined;
      if (!(error instanceof WebAssembly.RuntimeError)) throw error;
      const text = new Uint8Array(c.memory.buffer, c.cs_message(), 200);
      const message = new TextDecoder().decode(text.subarray(0, Math.max(0, text.indexOf(0))));
      throw new JpegDecodeError(message || 'the decoder failed on this JPEG');
    } finally {
      if (codec && codec.memory.buffer.byteLength > KEEP_MEMORY_BYTES) codec = undefined;
    }
  };
  return {
    header: (bytes) =>
      run(bytes, (c) => {
        c.cs_header();
        return { width: c.cs_width(), height: c.cs_height() };
      }),
    decode: (bytes, scale = 1) =>
      run(bytes, (c) => {
        c.cs_decode(scale);
        // libjpeg decodes a damaged file to plausible-looking pixels and only counts warnings
        // ("premature end of data", "corrupt data"); a model would answer such a picture with
        // confidence. Refused, as sharp refuses it by default.
        const warnings = c.cs_warnings();
        if (warnings) throw new JpegDecodeError(`the JPEG data is damaged or truncated (libjpeg reported ${warnings} corrupt-data warning${warnings === 1 ? '' : 's'})`);
        const width = c.cs_width(), height = c.cs_height();
        // Copied out: the next call frees these pixels.
        const data = new Uint8Array(c.memory.buffer, c.cs_pixels(), width * height * 3).slice();
        return { data, width, height, channels: 3 };
      }),
  };
}

/**
 * A JPEG photo as `params` has the model see it: turned upright (EXIF), decoded at the scale
 * {@link jpegScaleFor} picks. The one JPEG path of trainer and Worker.
 *
 * @example
 * const image = decodeJpegFor(decoder, bytes, manifest.preprocessing);
 * const input = preprocess(image, manifest.preprocessing);
 */
export function decodeJpegFor(decoder: JpegDecoder, bytes: Uint8Array, params: PreprocessingParams): PixelImage {
  const orientation = exifOrientation(bytes);
  let scale: JpegScale = 1;
  if (params.jpegScale === 'reduced') {
    const { width, height } = decoder.header(bytes);
    scale = orientation >= 5 ? jpegScaleFor(height, width, params) : jpegScaleFor(width, height, params);
  }
  let image = applyOrientation(decoder.decode(bytes, scale), orientation);
  if (params.crop === 'cell' && scale > 1) {
    // The window must still hold the input's pixels across, or the resize would enlarge.
    const side = cellBox(image, params.cellScale, params.cropFraction).width;
    const finer = ([4, 2, 1] as const).find((s) => s < scale && side * (scale / s) >= params.width) ?? 1;
    if (side < params.width) image = applyOrientation(decoder.decode(bytes, finer), orientation);
  }
  return image;
}
