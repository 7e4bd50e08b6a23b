import { z } from 'zod';
import { domainProfileSchema } from './domain.ts';
import { inferenceSchema } from './inference/inference.ts';
import { pixelTestSchema } from './inference/pixel-test.ts';
import { selfTestSchema } from './inference/self-test.ts';

const rgbTriple = z.tuple([z.number(), z.number(), z.number()]);

const preprocessingFields = {
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  cropFraction: z.number().gt(0).lte(1),
  resize: z.literal('area'),
  colorSpace: z.literal('rgb'),
  mean: rgbTriple,
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
};

const jpegScale = z.enum(['full', 'reduced']);
const stainOrFull = z.enum(['full', 'stain']);

/** Version 1 predates `jpegScale` (JPEGs decoded in full); version 2 states it; version 3 adds the `cell` crop. */
export const preprocessingSchema = z.discriminatedUnion('version', [
  z.object({ version: z.literal(1), ...preprocessingFields, crop: stainOrFull }),
  z.object({ version: z.literal(2), ...preprocessingFields, crop: stainOrFull, jpegScale }),
  z.object({ version: z.literal(3), ...preprocessingFields, crop: z.enum(['full', 'stain', 'cell']), jpegScale, cellScale: z.number().gt(0).lte(64) }),
]);

const classMetricsSchema = z.object({
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  support: z.number().int(),
});

export const evaluationSchema = z.object({
  classes: z.array(z.string()),
  accuracy: z.number(),
  macroF1: z.number(),
  perClass: z.record(z.string(), classMetricsSchema),
  confusion: z.array(z.array(z.number().int())),
});

export const quantizationDtypes = ['uint8', 'uint16', 'float16', 'none'] as const;

/** Builds of the trainer's wasm kernels: with relaxed SIMD's fused multiply-add, or plain SIMD128 (rounding differs). */
export const wasmKernelBuilds = ['relaxed-simd', 'simd128'] as const;
export type WasmKernelBuild = (typeof wasmKernelBuilds)[number];
export type QuantizationDtype = (typeof quantizationDtypes)[number];

export const fileEntrySchema = z.object({
  path: z.string().regex(/^[A-Za-z0-9._-]+$/, 'a plain file name inside the version folder'),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const manifestSchema = z.object({
  format: z.literal('cellsense-model/1'),
  name: z.string().min(1),
  version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
  createdAt: z.string(),
  classes: z.array(z.string().min(1)).min(2),
  input: z.object({
    height: z.number().int().positive(),
    width: z.number().int().positive(),
    channels: z.literal(3),
  }),
  preprocessing: preprocessingSchema,
  quantization: z.object({ dtype: z.enum(quantizationDtypes), weightBytes: z.number().int().nonnegative() }),
  metrics: z.object({
    validation: evaluationSchema.extend({
      accuracyFloat: z.number(),
      accuracyQuantized: z.number(),
    }),
    split: z.object({
      method: z.enum(['content', 'pattern', 'similarity']),
      description: z.string(),
      groups: z.number().int(),
      trainImages: z.number().int(),
      validationImages: z.number().int(),
    }),
    /** Calibration and doubt on the validation split (absent for versions trained without them). */
    calibration: z.object({
      /** What the temperature and threshold were fitted on: the validation split, or every out-of-fold prediction of cross-validation. */
      source: z.enum(['validation', 'out-of-fold']).optional(),
      eceBefore: z.number(),
      eceAfter: z.number(),
      coverage: z.number(),
      accuracyAboveThreshold: z.number(),
      /**
       * The served model itself under that policy, on its own validation split (out-of-fold
       * calibration only): the threshold was fitted on the fold models, and this checks that it
       * holds for the model they stand for; `raisedFrom` is the out-of-fold threshold when this
       * split needed a higher one to reach the target accuracy.
       */
      servedValidation: z.object({ images: z.number().int(), coverage: z.number(), accuracyAboveThreshold: z.number().nullable(), raisedFrom: z.number().optional() }).optional(),
    }).optional(),
    /** Grouped k-fold cross-validation of the same recipe, when it was run. */
    crossValidation: z.object({
      folds: z.number().int(),
      accuracy: z.object({ mean: z.number(), std: z.number() }),
      macroF1: z.object({ mean: z.number(), std: z.number() }),
      perClass: z.record(z.string(), z.object({ precision: z.number(), recall: z.number(), f1: z.number() })),
    }).optional(),
    /** Share of the validation photos the domain profile calls out of domain. */
    domain: z.object({ validationOutOfDomain: z.number() }).optional(),
  }),
  /** How raw outputs become answers: test-time averaging, temperature, review threshold. */
  inference: inferenceSchema.optional(),
  /** What the training photos look like, to flag a photo unlike them (absent in older versions). */
  domain: domainProfileSchema.optional(),
  /** The network's output on a seeded batch, checked by the Worker at load (absent in older versions). */
  selfTest: selfTestSchema.optional(),
  /** The final answer to a seeded synthetic photo, through preprocessing, checked by the Worker at load (absent in older versions). */
  pixelTest: pixelTestSchema.optional(),
  files: z.array(fileEntrySchema).min(1),
  training: z.object({
    arch: z.string(),
    epochs: z.number().int(),
    epochsRun: z.number().int(),
    /** The epoch whose weights were kept. */
    bestEpoch: z.number().int(),
    /** How that epoch was chosen: lowest validation loss, or the run's last (absent in older versions: `best`). */
    keepEpoch: z.enum(['best', 'last']).optional(),
    seed: z.number().int(),
    backend: z.string(),
    /** On the wasm backend, which build of its kernels trained (with the seed, what reproduces the run). */
    kernels: z.enum(wasmKernelBuilds).optional(),
    durationMs: z.number(),
    datasetFingerprint: z.string(),
    images: z.number().int(),
    imagesSkipped: z.number().int(),
    skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
    command: z.string(),
  }),
});

/** A model version's self-description, `manifest.json` beside `model.json`. */
export type Manifest = z.infer<typeof manifestSchema>;
export type Evaluation = z.infer<typeof evaluationSchema>;
export type ClassMetrics = z.infer<typeof classMetricsSchema>;
export type FileEntry = z.infer<typeof fileEntrySchema>;

/**
 * Validates parsed JSON as a manifest; throws a `ZodError` naming each bad field.
 *
 * @example
 * const manifest = parseManifest(JSON.parse(await file.text()));
 */
export function parseManifest(value: unknown): Manifest {
  return manifestSchema.parse(value);
}

/**
 * A manifest as the trainer writes it: indented for people to read, with each list of numbers
 * on one line (a domain profile holds thousands of them).
 *
 * @example
 * await writeFile('manifest.json', formatManifest(manifest));
 */
export function formatManifest(manifest: Manifest): string {
  const number = String.raw`-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?`;
  const list = new RegExp(String.raw`\[\s*(${number}(?:,\s*${number})*)\s*\]`, 'g');
  return `${JSON.stringify(manifest, null, 2).replace(list, (_, items: string) => `[${items.split(/,\s*/).join(', ')}]`)}\n`;
}
