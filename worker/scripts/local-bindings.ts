import { getPlatformProxy } from 'wrangler';
import type { DeviceDatabase } from '../devices.ts';
import type { ModelBucket } from './publish-core.ts';
import { applyLocalMigrations, WRANGLER_CONFIG } from './wrangler-cli.ts';

export interface LocalBindings {
  MODELS: ModelBucket & { list(options?: object): Promise<{ objects: { key: string }[] }> };
  DB: DeviceDatabase;
}

/**
 * Runs `fn` with the real local R2 bucket and D1 database, persisted in .wrangler/state/v3:
 * the very state `wrangler dev` serves (Miniflare through wrangler's platform proxy).
 *
 * @example
 * await withLocalBindings((env) => publishVersion(env.MODELS, version));
 */
export async function withLocalBindings<T>(fn: (env: LocalBindings) => Promise<T>): Promise<T> {
  applyLocalMigrations();
  const proxy = await getPlatformProxy<LocalBindings>({ configPath: WRANGLER_CONFIG, persist: true, remoteBindings: false });
  try {
    return await fn(proxy.env);
  } finally {
    await proxy.dispose();
  }
}
