import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../auth.ts';
import { ensureBackend } from '../../inference/backend.ts';
import { MAX_BATCH_BODY_BYTES, MAX_BATCH_IMAGES, MAX_BODY_BYTES } from '../body.ts';
import { MAX_BATCH_PIXELS } from '../batch-body.ts';
import { MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE } from '../../inference/decode.ts';
import { HttpError } from '../../errors.ts';
import { residentModels, statusOf } from '../../models/cache.ts';
import { defaultCandidates } from '../../models/loader.ts';
import { errorResponses, HealthSchema, InfoSchema } from '../schemas.ts';
import { warmUpStatus } from '../../inference/warm-up.ts';

const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  summary: 'Liveness, no auth',
  security: [],
  responses: { 200: { description: 'alive', content: { 'application/json': { schema: HealthSchema } } } },
});

const infoRoute = createRoute({
  method: 'get',
  path: '/v1/info',
  operationId: 'getInfo',
  summary: 'The inference backend in use (wasm, SIMD), the default model and the limits',
  security: [{ bearer: [] }],
  responses: { 200: { description: 'info', content: { 'application/json': { schema: InfoSchema } } }, ...errorResponses(401, 503) },
});

export const healthRoutes = new OpenAPIHono<AppEnv>()
  .openapi(healthRoute, (c) => c.json({ status: 'ok' as const }, 200))
  .openapi(infoRoute, async (c) => {
    // Read before ensureBackend, so a warm-up still running shows as such.
    const warmUp = warmUpStatus();
    const backend = await ensureBackend();
    let defaultModel: { version: string } | null = null;
    try {
      // The newest published version not already refused here, as unpinned requests find it.
      const served = (await defaultCandidates(c.env)).find((stored) => statusOf(stored).status !== 'invalid');
      defaultModel = served ? { version: served.version } : null;
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
    }
    return c.json({
      backend: { ...backend, warmUp },
      defaultModel,
      models: residentModels(c.env),
      limits: {
        maxBodyBytes: MAX_BODY_BYTES,
        maxBatchBodyBytes: MAX_BATCH_BODY_BYTES,
        maxBatchImages: MAX_BATCH_IMAGES,
        maxImageSide: MAX_IMAGE_SIDE,
        maxImagePixels: MAX_IMAGE_PIXELS,
        maxBatchPixels: MAX_BATCH_PIXELS,
      },
      formats: ['image/jpeg', 'image/png', 'image/webp'],
    }, 200);
  });
