import { getPlatformProxy } from 'wrangler';
import type { Database } from '../../worker/db.ts';
import type { VersionBucket } from '../../worker/models/store.ts';
import type { ModelBucket } from './publish-core.ts';
import { applyLocalMigrations, WRANGLER_CONFIG } from './wrangler-cli.ts';

export interface LocalBindings {
  MODELS: ModelBucket & VersionBucket;
  DB: Database;
}

/**
 * Runs `fn` with the real local R2 bucket and D1 database, persisted in .wrangler/state/v3 (or
 * under `persistTo`, as `wrangler dev --persist-to` uses it): the very state `wrangler dev`
 * serves (Miniflare through wrangler's platform proxy).
 *
 * @example
 * await withLocalBindings((env) => publishVersion({ bucket: env.MODELS, registry: d1Registry(env.DB) }, version));
 */
export async function withLocalBindings<T>(fn: (env: LocalBindings) => Promise<T>, persistTo?: string): Promise<T> {
  applyLocalMigrations(persistTo);
  const proxy = await getPlatformProxy<LocalBindings>({
    configPath: WRANGLER_CONFIG,
    // wrangler keeps its state in <dir>/v3; the platform proxy takes that inner folder.
    persist: persistTo ? { path: `${persistTo}/v3` } : true,
    remoteBindings: false,
  });
  try {
    return await fn(proxy.env);
  } finally {
    await proxy.dispose();
  }
}
