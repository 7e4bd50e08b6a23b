import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { setMetric } from 'hono/timing';
import type { AppEnv } from '../auth.ts';
import { readBatch } from '../batch-body.ts';
import { assertImageType, MAX_BATCH_IMAGES, MAX_BODY_BYTES, mediaTypeOf, readBody } from '../body.ts';
import { classifyImage } from '../../inference/classify-images.ts';
import { nextTurn } from '../../clock.ts';
import { HttpError, quoted } from '../../errors.ts';
import { countBatchParts } from '../rate-limit.ts';
import { BatchSchema, ClassificationSchema, errorResponses, PinHeaderSchema, VersionQuerySchema } from '../schemas.ts';
import { requestedPin, serveModel, ServeError, type ServedModel } from '../../rollout/version-choice.ts';
import { runAfterResponse } from '../../after-response.ts';
import { failureOf, type PredictionRecord } from '../../stats/record.ts';

const binary = { schema: { type: 'string' as const, format: 'binary' } };

const classifyRoute = createRoute({
  method: 'post',
  path: '/v1/classify',
  operationId: 'classifyImage',
  summary: 'Classify one image',
  security: [{ bearer: [] }],
  request: {
    query: VersionQuerySchema,
    headers: PinHeaderSchema,
    body: { required: true, content: { 'image/jpeg': binary, 'image/png': binary, 'image/webp': binary } },
  },
  responses: {
    200: {
      description: 'the classification; header X-Model-Version names the version that answered',
      headers: { 'X-Model-Version': { schema: { type: 'string' } } },
      content: { 'application/json': { schema: ClassificationSchema } },
    },
    ...errorResponses(400, 401, 403, 404, 413, 415, 503),
  },
});

const batchRoute = createRoute({
  method: 'post',
  path: '/v1/classify/batch',
  operationId: 'classifyBatch',
  summary: `Classify up to ${MAX_BATCH_IMAGES} images, one result per part in order`,
  security: [{ bearer: [] }],
  request: {
    query: VersionQuerySchema,
    headers: PinHeaderSchema,
    body: {
      required: true,
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            description: 'each part is an image file (any field name); a part that fails gets its own error',
            properties: { image: { type: 'array', items: { type: 'string', format: 'binary' }, maxItems: MAX_BATCH_IMAGES } },
          },
        },
      },
    },
  },
  responses: {
    200: {
      description: 'one entry per part, in request order',
      headers: { 'X-Model-Version': { schema: { type: 'string' } } },
      content: { 'application/json': { schema: BatchSchema } },
    },
    ...errorResponses(400, 401, 403, 404, 413, 415, 503),
  },
});

/** A part's failure, kept inside the batch response instead of failing the whole request. */
function partError(error: unknown) {
  if (error instanceof HttpError) return { status: error.status, code: error.code, message: error.message };
  console.error('batch part failed', error);
  return { status: 500, code: 'internal_error', message: 'this image could not be processed' };
}

type Ctx = Context<AppEnv>;

/** Statistics and the shadow run happen after the response is sent. */
function afterwards(c: Ctx, records: PredictionRecord[], shadow: string | null): void {
  runAfterResponse(c.executionCtx, c.env, records, shadow);
}

/** Routes the request to a version; a refusal that concerns a version is recorded against it. */
async function serve(c: Ctx, query: string | undefined, base: RecordBase, started: number): Promise<ServedModel> {
  const pin = requestedPin(c.req.header('x-model-version'), query);
  try {
    return await serveModel(c.env, c.get('device'), pin);
  } catch (error) {
    if (error instanceof ServeError) {
      const { assigned, route } = error;
      afterwards(c, [{ ...base, id: crypto.randomUUID(), version: assigned, assigned, route, ...failureOf(error), classified: null, latencyMs: Date.now() - started }], null);
    }
    throw error;
  }
}

type RecordBase = Pick<PredictionRecord, 'requestId' | 'device' | 'createdAt'>;

function recordBase(c: Ctx): RecordBase {
  return { requestId: crypto.randomUUID(), device: c.get('device').name, createdAt: new Date().toISOString() };
}

const servedAs = (served: ServedModel) => ({ version: served.version, assigned: served.assigned, route: served.route });

export const classifyRoutes = new OpenAPIHono<AppEnv>()
  .openapi(classifyRoute, async (c) => {
    const started = Date.now();
    assertImageType(c.req.header('content-type'));
    const bytes = await readBody(c.req.raw, MAX_BODY_BYTES);
    const base = recordBase(c);
    const served = await serve(c, c.req.valid('query').version, base, started);
    try {
      const classified = await classifyImage(bytes, served.loaded);
      const { result } = classified;
      afterwards(c, [{ ...base, ...servedAs(served), id: result.id, status: 200, errorCode: null, classified, latencyMs: Date.now() - started }], served.shadow);
      const { decodeMs, preprocessMs, inferMs } = result.timing;
      setMetric(c, 'decode', decodeMs);
      setMetric(c, 'preprocess', preprocessMs);
      setMetric(c, 'infer', inferMs);
      c.header('X-Model-Version', served.version);
      return c.json(result, 200);
    } catch (error) {
      afterwards(c, [{ ...base, ...servedAs(served), id: crypto.randomUUID(), ...failureOf(error), classified: null, latencyMs: Date.now() - started }], null);
      throw error;
    } finally {
      served.release();
    }
  })
  .openapi(batchRoute, async (c) => {
    const type = mediaTypeOf(c.req.header('content-type'));
    if (type !== 'multipart/form-data') {
      throw new HttpError('unsupported_media_type', `a batch is multipart/form-data with one image per part, not ${type ? quoted(type) : '(none)'}`);
    }
    const parts = await readBatch(c.req.raw);
    await countBatchParts(c, parts.length);
    const base = recordBase(c);
    const served = await serve(c, c.req.valid('query').version, base, Date.now());
    const { manifest } = served.loaded;
    const results = [];
    const records: PredictionRecord[] = [];
    try {
      for (const { index, filename, bytes, error: refused } of parts) {
        // Between images, so no request waits behind a whole batch.
        if (index > 0) await nextTurn();
        const started = Date.now();
        try {
          if (refused) throw refused;
          const classified = await classifyImage(bytes!, served.loaded);
          records.push({ ...base, ...servedAs(served), id: classified.result.id, status: 200, errorCode: null, classified, latencyMs: Date.now() - started });
          results.push({ index, filename, result: classified.result });
        } catch (error) {
          records.push({ ...base, ...servedAs(served), id: crypto.randomUUID(), ...failureOf(error), classified: null, latencyMs: Date.now() - started });
          results.push({ index, filename, error: partError(error) });
        }
      }
    } finally {
      served.release();
    }
    afterwards(c, records, served.shadow);
    c.header('X-Model-Version', served.version);
    return c.json({ model: { name: manifest.name, version: manifest.version }, results }, 200);
  });
