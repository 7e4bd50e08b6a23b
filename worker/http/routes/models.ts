import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { MANIFEST_FILE, parseManifestBytes, sha256Hex } from '../../../shared/index.ts';
import type { AppEnv } from '../auth.ts';
import { HttpError } from '../../errors.ts';
import { acquireModel, statusOf } from '../../models/cache.ts';
import { fromStore } from '../../models/store.ts';
import { manifestMismatch, publishedRecords, type PublishedRecord } from '../../models/registry.ts';
import { listStoredVersions, newestPublished, resolveVersion, type StoredVersion } from '../../models/loader.ts';
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

type Summary = z.infer<typeof ModelSummarySchema>;

/** One published version as listed: its manifest's name and date, and whether it can serve (its manifest the one published, its load not refused here). */
async function summarise(env: Env, stored: StoredVersion, record: PublishedRecord | undefined): Promise<Summary> {
  const base = { version: stored.version, name: null, createdAt: null, publishedAt: record?.publishedAt ?? stored.uploaded.toISOString(), default: false };
  const object = await fromStore(`reading ${stored.version}/${MANIFEST_FILE}`, () => env.MODELS.get(`${stored.version}/${MANIFEST_FILE}`));
  // Gone since the listing: a version being deleted.
  if (!object) return { ...base, status: 'invalid', reason: 'manifest is missing' };
  const bytes = new Uint8Array(await object.arrayBuffer());
  const mismatch = manifestMismatch(stored.version, await sha256Hex(bytes), record);
  let manifest;
  try {
    manifest = parseManifestBytes(bytes);
  } catch {
    return { ...base, status: 'invalid', reason: mismatch ?? 'manifest is invalid' };
  }
  const { status, reason } = mismatch ? { status: 'invalid' as const, reason: mismatch } : statusOf(stored);
  return { ...base, name: manifest.name, createdAt: manifest.createdAt, status, ...(reason ? { reason } : {}) };
}

export const modelRoutes = new OpenAPIHono<AppEnv>()
  .openapi(listRoute, async (c) => {
    const [{ complete, incomplete }, records] = await Promise.all([listStoredVersions(c.env.MODELS), publishedRecords(c.env.DB)]);
    const models = await Promise.all(complete.map((stored) => summarise(c.env, stored, records.get(stored.version))));
    models.sort((a, b) => b.publishedAt!.localeCompare(a.publishedAt!) || b.version.localeCompare(a.version));
    // The version unpinned requests go to without routing: never one known to fail its checks.
    const candidates = c.env.MODEL_VERSION ? [c.env.MODEL_VERSION] : newestPublished(complete, records).map((stored) => stored.version);
    const served = candidates.map((version) => models.find((m) => m.version === version)).find((m) => m && m.status !== 'invalid');
    if (served) served.default = true;
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
      if ((error instanceof HttpError && error.status === 404) || !(error instanceof HttpError)) throw error;
      // A version that fails its check still shows its manifest, marked invalid, with why.
      const object = await c.env.MODELS.get(`${stored.version}/${MANIFEST_FILE}`);
      const manifest = (await object?.json().catch(() => null)) ?? {};
      return c.json({ ...(manifest as object), status: 'invalid' as const, reason: error.message }, 200);
    }
  });
