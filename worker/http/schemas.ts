import { z } from '@hono/zod-openapi';
import { REVIEW_REASONS } from '../../shared/index.ts';

const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ description: 'stable and machine-readable; each status lists the codes it carries' }),
      message: z.string().openapi({ description: 'for a person: what was wrong and what to send instead' }),
    }),
  })
  .openapi('Error', { example: { error: { code: 'invalid_image', message: 'the body is not a JPEG, PNG or WebP image' } } });

const PredictionSchema = z.object({ label: z.string(), probability: z.number().min(0).max(1) }).openapi('Prediction');

export const ClassificationSchema = z
  .object({
    id: z.string().uuid().openapi({ description: 'identifies this prediction (quote it when reporting a result)' }),
    model: z.object({ name: z.string(), version: z.string() }),
    top: PredictionSchema,
    predictions: z.array(PredictionSchema).openapi({ description: 'every class, highest probability first; sums to 1' }),
    review: z.boolean().openapi({ description: 'a technician should check this cell: true when `reasons` is not empty' }),
    reasons: z
      .array(z.enum(REVIEW_REASONS))
      .openapi({ description: "why the cell is flagged: `low_confidence`, the top probability is under the version's review threshold; `out_of_domain`, the photo's colour or stain statistics are unlike the training photos (blank, grayscale, another stain, a rescaled cell)" }),
    domainScore: z
      .number()
      .nullable()
      .openapi({ description: "where the photo lies against the version's domain profile: up to 1 like the training photos, over 1 out of domain; null for a version trained without a profile" }),
    timing: z.object({ decodeMs: z.number(), preprocessMs: z.number(), inferMs: z.number() }),
  })
  .openapi('Classification');

const BatchItemSchema = z
  .object({
    index: z.number().int(),
    filename: z.string().nullable(),
    result: ClassificationSchema.optional(),
    error: z
      .object({ status: z.number().int(), code: z.string(), message: z.string() })
      .optional()
      .openapi({ description: 'why this part has no result: 400, 413 or 415 with the codes those statuses list, or 500 `internal_error`' }),
  })
  .openapi('BatchItem', { description: 'the result for one part, in request order: `result` or `error`' });

export const BatchSchema = z
  .object({ model: z.object({ name: z.string(), version: z.string() }), results: z.array(BatchItemSchema) })
  .openapi('BatchClassification');

const PIN_RULE = 'only admin tokens, and device tokens listed for the version (pins), may choose one';

export const VersionQuerySchema = z.object({
  version: z
    .string()
    .optional()
    .openapi({ param: { name: 'version', in: 'query' }, description: `pins a model version, like the X-Model-Version header; ${PIN_RULE}` }),
});

export const PinHeaderSchema = z.object({
  'x-model-version': z
    .string()
    .optional()
    .openapi({
      param: { name: 'x-model-version', in: 'header' },
      description: `pins a model version; without it the routing split (sticky per device) or the default version answers; ${PIN_RULE}`,
    }),
});

export const VersionParamSchema = z.object({
  version: z.string().min(1).openapi({ param: { name: 'version', in: 'path' }, example: '2026-01-01-compact' }),
});

export const ModelSummarySchema = z
  .object({
    version: z.string(),
    name: z.string().nullable(),
    createdAt: z.string().nullable(),
    publishedAt: z.string().nullable(),
    status: z.enum(['ready', 'published', 'invalid', 'incomplete']).openapi({
      description: 'ready: verified and loaded here; published: manifest present, not loaded yet; invalid: failed its integrity check; incomplete: files without a manifest',
    }),
    default: z.boolean().openapi({ description: 'served when a request names no version' }),
    reason: z.string().optional(),
  })
  .openapi('ModelSummary');

export const ModelListSchema = z.object({ models: z.array(ModelSummarySchema) }).openapi('ModelList');

/** The stored manifest is passed through as validated by shared/manifest.ts, plus its status. */
export const ModelDetailSchema = z
  .object({ status: ModelSummarySchema.shape.status })
  .catchall(z.unknown())
  .openapi('ModelDetail', { description: "the version's manifest.json (classes, input, preprocessing, quantization, metrics, files, training) and its status" });

export const DeviceNameParamSchema = z.object({
  name: z.string().openapi({ param: { name: 'name', in: 'path' }, example: 'lab-1' }),
});

const PinsSchema = z.array(z.string()).max(100).openapi({ description: 'versions the device may pin with X-Model-Version; "*" for any', example: ['v2'] });

export const CreateDeviceSchema = z
  .object({ name: z.string().openapi({ example: 'lab-1' }), admin: z.boolean().optional().default(false), pins: PinsSchema.optional().default([]) })
  .openapi('CreateDevice');

export const DeviceTokenSchema = z
  .object({ name: z.string(), admin: z.boolean(), pins: z.array(z.string()), token: z.string().openapi({ description: 'shown this once; only its hash is stored' }) })
  .openapi('DeviceToken');

export const DevicePinsSchema = z.object({ pins: PinsSchema }).openapi('DevicePins');

export const InfoSchema = z
  .object({
    backend: z.object({
      name: z.string(),
      simd: z.boolean(),
      threads: z.boolean(),
      tfjsVersion: z.string(),
      convolutions: z.enum(['winograd', 'xnnpack']).openapi({ description: "kernels of the 3x3 convolutions: the project's Winograd ones where they apply, else tfjs's XNNPACK" }),
      warmUp: z
        .object({ state: z.enum(['pending', 'done', 'failed']), ms: z.number().nullable() })
        .openapi({ description: "this isolate's start: the backend, its kernels, the JPEG codec, preprocessing and SHA-256 run once before the first request" }),
    }),
    defaultModel: z.object({ version: z.string() }).nullable(),
    models: z
      .object({
        budgetBytes: z.number(),
        residentBytes: z.number().openapi({ description: "bytes the resident versions' weights take in this isolate" }),
        heapBytes: z.number().nullable().openapi({ description: 'size of the wasm heap they live in' }),
        versions: z.array(z.object({ version: z.string(), bytes: z.number(), lastUsed: z.string() })),
      })
      .openapi({ description: 'versions loaded in this isolate, most recently used first; the least recently used is unloaded past the budget' }),
    limits: z.object({
      maxBodyBytes: z.number(),
      maxBatchBodyBytes: z.number(),
      maxBatchImages: z.number(),
      maxImageSide: z.number(),
      maxImagePixels: z.number().openapi({ description: 'most pixels (width x height) one image may declare' }),
      maxBatchPixels: z.number().openapi({ description: "most pixels a batch's images may declare together" }),
    }),
    formats: z.array(z.string()),
  })
  .openapi('Info');

export const HealthSchema = z.object({ status: z.literal('ok') }).openapi('Health');

/** Standard error responses, for the OpenAPI document. */
export function errorResponses(...statuses: number[]) {
  const descriptions: Record<number, string> = {
    400: 'bad input: `invalid_request` or `invalid_json` (a parameter or JSON body that fails its schema), `empty_body`, `invalid_image` (not a JPEG, PNG or WebP, truncated, or damaged), `invalid_multipart`, `empty_batch`, `too_many_images`, `not_a_file`, `conflicting_version` (header and query pin different versions), `invalid_device_name`, `invalid_pins`, `invalid_since`, `invalid_bucket` (a drift series of over 1,000 buckets)',
    401: '`unauthorized`: missing, unknown or revoked bearer token',
    403: '`forbidden`: a device token on an admin route, pinning a version the token may not, or confirming another device\'s prediction',
    404: '`model_not_found`, `device_not_found`, `prediction_not_found` or `report_not_found`',
    409: 'a conflict with stored state: `device_exists`, `feedback_conflict` (another label), `routing_conflict` (a concurrent change), `nothing_to_roll_back`',
    413: '`body_too_large` (over the byte limits of GET /v1/info) or `image_too_large` (more than 4096 pixels on a side, read from the header before decoding)',
    415: '`unsupported_media_type`',
    422: 'well-formed but unusable: `invalid_split` (not summing to 100), `unknown_version`, `incomplete_version`, `unverified_version`, `unknown_label` (not among the classes)',
    503: 'no usable model: `no_model` (none published), `no_healthy_version` (none of the routed versions passes its check), `model_integrity`, `model_invalid`, `store_unavailable`, `backend_unavailable`',
  };
  return Object.fromEntries(
    statuses.map((s) => [s, { description: descriptions[s], content: { 'application/json': { schema: ErrorSchema } } }]),
  );
}
