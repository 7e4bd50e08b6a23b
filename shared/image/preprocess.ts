import { assertPixelImage, resizeArea, type Box, type PixelImage } from './image.ts';
import type { JpegScale } from './jpeg-decoder.ts';
import { cellBox, STAIN_MARGIN } from '../cell-window.ts';

/** How a JPEG photo is decoded; see {@link PreprocessingParams}. */
export type JpegScaleMode = 'full' | 'reduced';

/**
 * Every parameter that turns decoded pixels into the model's input. Written into each
 * model version's manifest and read back by the Worker, so serving repeats training.
 * `version` is bumped when the meaning of a field changes, so an old manifest is refused,
 * not misread: version 3 added the `cell` crop and `cellScale`, version 2 `jpegScale`, and
 * version 1 decoded every JPEG in full.
 */
export type PreprocessingParams =
  | (PreprocessingFields & { version: 1; crop: StainOrFull; jpegScale?: undefined; cellScale?: undefined })
  | (PreprocessingFields & { version: 2; crop: StainOrFull; jpegScale: JpegScaleMode; cellScale?: undefined })
  | (PreprocessingFields & {
      version: 3;
      crop: CropMode;
      jpegScale: JpegScaleMode;
      /** Side of the `cell` window in units of the cell's radius ({@link cellBox}). */
      cellScale: number;
    });

/**
 * Which part of the photo is resized: `full` stretches the whole frame; `stain` centres a
 * square window of `cropFraction` of the shorter side on the purple-stained pixels; `cell`
 * sizes the window from the stained cell itself, so framing and resolution do not change how
 * large the cell looks to the model.
 */
export type CropMode = 'full' | 'stain' | 'cell';
type StainOrFull = Exclude<CropMode, 'cell'>;

interface PreprocessingFields {
  /** Model input size in pixels. */
  width: number;
  height: number;
  /** Side of the `stain` window (and of `cell`'s when nothing is stained) as a fraction of the photo's shorter side. */
  cropFraction: number;
  /** Resampling rule; `area` is a box filter with exact arithmetic. */
  resize: 'area';
  /** Input channel order. */
  colorSpace: 'rgb';
  /** Per-channel mean and standard deviation on the 0..1 scale, measured on the training set. */
  mean: [number, number, number];
  std: [number, number, number];
}

/**
 * The parameters the trainer starts from; `mean`/`std` are replaced by the training set's.
 *
 * @example
 * const params = defaultPreprocessing(64, 'stain');
 */
export function defaultPreprocessing(size: number, crop: CropMode = 'full', jpegScale: JpegScaleMode = 'full'): PreprocessingParams {
  const fields = {
    width: size,
    height: size,
    cropFraction: 0.75,
    resize: 'area' as const,
    colorSpace: 'rgb' as const,
    mean: [0.5, 0.5, 0.5] as [number, number, number],
    std: [0.25, 0.25, 0.25] as [number, number, number],
  };
  if (crop === 'cell') return { version: 3, ...fields, crop, jpegScale, cellScale: DEFAULT_CELL_SCALE };
  // The oldest version that says it, so such models stay readable by older Workers.
  return jpegScale === 'full' ? { version: 1, ...fields, crop } : { version: 2, ...fields, crop, jpegScale };
}

/**
 * The `cell` window's side in cell radii: the white cell (about 4 radii across) with a margin
 * round it. On content-grouped cross-validation 5 and 7 read alike in accuracy; 5 was better
 * calibrated.
 */
export const DEFAULT_CELL_SCALE = 5;

/** Side of the square `stain` window in an image of `width` x `height`. */
function stainSide(width: number, height: number, cropFraction: number): number {
  return Math.max(1, Math.round(Math.min(width, height) * cropFraction));
}

/**
 * The scale (as libjpeg's denominator) a JPEG of `width` x `height` upright pixels is decoded
 * at: the smallest image whose crop window still spans at least the model input on each
 * axis, so the resize only ever shrinks. Always 1 unless `params.jpegScale` is `reduced`.
 * libjpeg's output at 1/d is ceil(side / d), which is what is tested here.
 *
 * @example
 * jpegScaleFor(320, 240, defaultPreprocessing(64, 'stain', 'reduced')); // 2: a 90-pixel window of 160x120
 */
export function jpegScaleFor(width: number, height: number, params: PreprocessingParams): JpegScale {
  if (params.jpegScale !== 'reduced') return 1;
  for (const scale of [8, 4, 2] as const) {
    const w = Math.ceil(width / scale), h = Math.ceil(height / scale);
    // A `cell` window is only known once decoded: start from the `stain` window's size, and
    // decodeJpegFor decodes finer when the cell turns out smaller.
    const side = params.crop !== 'full' ? stainSide(w, h, params.cropFraction) : undefined;
    if ((side ?? w) >= params.width && (side ?? h) >= params.height) return scale;
  }
  return 1;
}

/** Grid step of the stain search: the window is coarse anyway, and this keeps it ~1 ms. */
const STAIN_STEP = 4;

/**
 * Weighted centroid of the strongly stained pixels: those whose blue exceeds green by a
 * wide margin (haematoxylin/eosin-stained nuclei and granules), weighted by that margin.
 * `null` when nothing in the frame is stained.
 *
 * @example
 * const centre = stainCentroid(image); // { x: 161.2, y: 118.7 } or null
 */
export function stainCentroid(image: PixelImage): { x: number; y: number } | null {
  assertPixelImage(image);
  const { data, width, height, channels } = image;
  let sum = 0, sx = 0, sy = 0;
  for (let y = 0; y < height; y += STAIN_STEP) {
    for (let x = 0; x < width; x += STAIN_STEP) {
      const p = (y * width + x) * channels;
      const score = data[p + 2] - data[p + 1] - STAIN_MARGIN;
      if (score > 0) {
        sum += score;
        sx += score * x;
        sy += score * y;
      }
    }
  }
  return sum > 0 ? { x: sx / sum, y: sy / sum } : null;
}

/**
 * The square window centred on the stained cell, clamped inside the frame; the frame
 * centre when nothing is stained.
 *
 * @example
 * const box = stainBox(image, 0.75); // { x, y, width, height } in source pixels
 */
export function stainBox(image: PixelImage, cropFraction: number): Box {
  const { width, height } = image;
  const side = stainSide(width, height, cropFraction);
  const centre = stainCentroid(image) ?? { x: width / 2, y: height / 2 };
  const clamp = (v: number, max: number) => Math.min(Math.max(v, 0), max);
  return {
    x: Math.round(clamp(centre.x - side / 2, width - side)),
    y: Math.round(clamp(centre.y - side / 2, height - side)),
    width: side,
    height: side,
  };
}

/** The source region that `params` resizes to the model input. */
export function cropBoxFor(image: PixelImage, params: PreprocessingParams): Box {
  if (params.crop === 'stain') return stainBox(image, params.cropFraction);
  if (params.crop === 'cell') return cellBox(image, params.cellScale, params.cropFraction);
  return { x: 0, y: 0, width: image.width, height: image.height };
}

/**
 * Decoded pixels to the model's input size, still 8-bit RGB: the part of preprocessing
 * that depends on the photo. The trainer caches this output on disk.
 *
 * @example
 * const rgb = preparePixels(image, params); // Uint8Array, params.width * params.height * 3
 */
export function preparePixels(image: PixelImage, params: PreprocessingParams): Uint8Array {
  return resizeArea(image, cropBoxFor(image, params), params.width, params.height);
}

/**
 * Model-size 8-bit RGB to normalised floats, `(v / 255 - mean) / std` per channel, written
 * into `out` at `offset` when given so a batch is filled without intermediate arrays.
 *
 * @example
 * const input = normalizePixels(preparePixels(image, params), params);
 */
export function normalizePixels(
  rgb: Uint8Array,
  params: PreprocessingParams,
  out: Float32Array = new Float32Array(rgb.length),
  offset = 0,
): Float32Array {
  const scale = params.std.map((s) => 1 / (255 * s));
  const shift = params.mean.map((m, c) => m / params.std[c]);
  for (let i = 0; i < rgb.length; i += 3) {
    out[offset + i] = rgb[i] * scale[0] - shift[0];
    out[offset + i + 1] = rgb[i + 1] * scale[1] - shift[1];
    out[offset + i + 2] = rgb[i + 2] * scale[2] - shift[2];
  }
  return out;
}

/**
 * The whole pipeline, decoded pixels to the model's input (HWC, float32).
 *
 * @example
 * const input = preprocess(image, manifest.preprocessing);
 * tf.tensor4d(input, [1, params.height, params.width, 3]);
 */
export function preprocess(image: PixelImage, params: PreprocessingParams): Float32Array {
  return normalizePixels(preparePixels(image, params), params);
}

/**
 * A stable text key of the parameters that change `preparePixels`' output, for caches.
 *
 * @example
 * preparationKey(params); // "v1:64x64:stain:0.75:area:rgb", or "v2:...:jpeg-reduced"
 */
export function preparationKey(params: PreprocessingParams): string {
  const key = `v${params.version}:${params.width}x${params.height}:${params.crop}:${params.cropFraction}:${params.resize}:${params.colorSpace}`;
  if (params.version === 1) return key;
  return params.version === 2 ? `${key}:jpeg-${params.jpegScale}` : `${key}:jpeg-${params.jpegScale}:cell-${params.cellScale}`;
}
