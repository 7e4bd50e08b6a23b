import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { parseManifest } from '../../shared/index.ts';
import type { AppEnv } from '../auth.ts';
import { HttpError, NotFoundError } from '../errors.ts';
import { acquireModel, statusOf } from '../model-cache.ts';
import { listStoredVersions, MANIFEST_FILE, resolveVersion } from '../model-store.ts';
import { z } from '@hono/zod-openapi';
import { errorResponses, ModelDetailSchema, ModelListSchema, ModelSummarySchema, VersionParamSchema } from '../schemas.ts';

const listRoute = createRoute({
  method: 'get',
  path: '/v1/models',
  operationId: 'listModels',
  summary: 'Published model versions and their status',
  security: [{ bearer: [] }],
  responses: { 200: { description: 'newest first', content: { 'application/json': { schema: ModelListSchema } } }, ...errorResponses(401) },
});

const detailRoute = createRoute({
  method: 'get',
  path: '/v1/models/{version}',
  operationId: 'getModel',
  summary: "A version's manifest (classes, input, metrics, quantisation), verified against its files",
  security: [{ bearer: [] }],
  request: { params: VersionParamSchema },
  responses: {
    200: { description: 'the manifest and status', content: { 'application/json': { schema: ModelDetailSchema } } },
    ...errorResponses(401, 404),
  },
});

async function defaultVersion(env: Env): Promise<string | null> {
  try {
    return (await resolveVersion(env)).version;
  } catch (error) {
    if (error instanceof HttpError) return null;
    throw error;
  }
}

export const modelRoutes = new OpenAPIHono<AppEnv>()
  .openapi(listRoute, async (c) => {
    const { complete, incomplete } = await listStoredVersions(c.env.MODELS);
    const served = await defaultVersion(c.env);
    const models: z.infer<typeof ModelSummarySchema>[] = await Promise.all(
      complete.map(async (stored) => {
        let name: string | null = null;
        let createdAt: string | null = null;
        const { status, reason } = statusOf(stored);
        try {
          const manifest = parseManifest(await (await c.env.MODELS.get(`${stored.version}/${MANIFEST_FILE}`))?.json());
          ({ name, createdAt } = manifest);
        } catch {
          return { version: stored.version, name, createdAt, publishedAt: stored.uploaded.toISOString(), status: 'invalid' as const, default: false, reason: 'manifest is invalid' };
        }
        return { version: stored.version, name, createdAt, publishedAt: stored.uploaded.toISOString(), status, default: stored.version === served, ...(reason ? { reason } : {}) };
      }),
    );
    for (const version of incomplete) {
      models.push({ version, name: null, createdAt: null, publishedAt: null, status: 'incomplete', default: false });
    }
    return c.json({ models }, 200);
  })
  .openapi(detailRoute, async (c) => {
    const stored = await resolveVersion(c.env, c.req.valid('param').version);
    try {
      const { loaded, release } = await acquireModel(c.env, stored);
      release();
      return c.json({ ...loaded.manifest, status: 'ready' as const }, 200);
    } catch (error) {
      if (error instanceof NotFoundError || !(error instanceof HttpError)) throw error;
      // A version that fails its check still shows its manifest, marked invalid, with why.
      const object = await c.env.MODELS.get(`${stored.version}/${MANIFEST_FILE}`);
      const manifest = (await object?.json().catch(() => null)) ?? {};
      return c.json({ ...(manifest as object), status: 'invalid' as const, reason: error.message }, 200);
    }
  });
