import { z } from '@hono/zod-openapi';

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .openapi('Error', { example: { error: { code: 'invalid_image', message: 'the body is not a JPEG, PNG or WebP image' } } });

export const PredictionSchema = z.object({ label: z.string(), probability: z.number().min(0).max(1) }).openapi('Prediction');

export const ClassificationSchema = z
  .object({
    id: z.string().uuid().openapi({ description: 'identifies this prediction (quote it when reporting a result)' }),
    model: z.object({ name: z.string(), version: z.string() }),
    top: PredictionSchema,
    predictions: z.array(PredictionSchema).openapi({ description: 'every class, highest probability first; sums to 1' }),
    timing: z.object({ decodeMs: z.number(), preprocessMs: z.number(), inferMs: z.number() }),
  })
  .openapi('Classification');

export const BatchItemSchema = z
  .object({
    index: z.number().int(),
    filename: z.string().nullable(),
    result: ClassificationSchema.optional(),
    error: z.object({ status: z.number().int(), code: z.string(), message: z.string() }).optional(),
  })
  .openapi('BatchItem', { description: 'the result for one part, in request order: `result` or `error`' });

export const BatchSchema = z
  .object({ model: z.object({ name: z.string(), version: z.string() }), results: z.array(BatchItemSchema) })
  .openapi('BatchClassification');

export const VersionQuerySchema = z.object({
  version: z
    .string()
    .optional()
    .openapi({ param: { name: 'version', in: 'query' }, description: 'model version; default: MODEL_VERSION or the newest published' }),
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

export const CreateDeviceSchema = z
  .object({ name: z.string().openapi({ example: 'lab-1' }), admin: z.boolean().optional().default(false) })
  .openapi('CreateDevice');

export const DeviceTokenSchema = z
  .object({ name: z.string(), admin: z.boolean(), token: z.string().openapi({ description: 'shown this once; only its hash is stored' }) })
  .openapi('DeviceToken');

export const InfoSchema = z
  .object({
    backend: z.object({ name: z.string(), simd: z.boolean(), threads: z.boolean(), tfjsVersion: z.string() }),
    defaultModel: z.object({ version: z.string() }).nullable(),
    limits: z.object({ maxBodyBytes: z.number(), maxBatchBodyBytes: z.number(), maxBatchImages: z.number(), maxImageSide: z.number() }),
    formats: z.array(z.string()),
  })
  .openapi('Info');

export const HealthSchema = z.object({ status: z.literal('ok') }).openapi('Health');

/** Standard error responses, for the OpenAPI document. */
export function errorResponses(...statuses: number[]) {
  const descriptions: Record<number, string> = {
    400: 'bad input (empty body, undecodable or truncated image, invalid JSON)',
    401: 'missing or invalid bearer token',
    403: 'a device token on an admin route',
    404: 'unknown model version or device',
    409: 'the device already has an active token',
    413: 'body over the limit, or more than 4096 pixels on a side',
    415: 'unsupported content type',
    503: 'no usable model (none published, or it failed its integrity check)',
  };
  return Object.fromEntries(
    statuses.map((s) => [s, { description: descriptions[s], content: { 'application/json': { schema: ErrorSchema } } }]),
  );
}
