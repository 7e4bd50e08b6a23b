import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createDevice, revokeDevice } from '../../worker/devices/store.ts';
import { HttpError } from '../../worker/errors.ts';
import { withLocalBindings } from './local-bindings.ts';
import { readModelFolder } from '../../trainer/export/model-folder.ts';
import { d1Registry } from '../../worker/models/registry.ts';
import { isPublished, publishVersion } from './publish-core.ts';
import { ROOT } from './wrangler-cli.ts';

interface LocalSetup {
  name: string;
  version: string;
  token: string;
  /** The admin device's token, when one was asked for. */
  adminToken?: string;
  published: boolean;
}

/**
 * Makes the local bucket hold the model version in `dir` (publishing it when absent, recording it
 * when it was published before records were kept) and
 * gives `device` (and `adminDevice`, as an admin) a fresh token, revoking its previous one
 * (only hashes are kept, so an old token cannot be shown again).
 *
 * @example
 * const { version, token, adminToken } = await prepareLocal(defaultModelDir(), 'npm-start', 'npm-start-admin');
 */
export async function prepareLocal(dir: string, device: string, adminDevice?: string): Promise<LocalSetup> {
  const files = await readModelFolder(dir);
  const version = files.manifest.version;
  return withLocalBindings(async (env) => {
    const target = { bucket: env.MODELS, registry: d1Registry(env.DB) };
    const present = await isPublished(target, files);
    if (!present) await publishVersion(target, files);
    const reissue = async (name: string, admin: boolean) => {
      await revokeDevice(env.DB, name).catch((error) => {
        if (!(error instanceof HttpError && error.status === 404)) throw error;
      });
      return (await createDevice(env.DB, name, admin)).token;
    };
    const token = await reissue(device, false);
    const adminToken = adminDevice ? await reissue(adminDevice, true) : undefined;
    return { name: files.manifest.name, version, token, adminToken, published: !present };
  });
}

/** A free loopback port, from `preferred` upwards. */
export async function freePort(preferred: number): Promise<number> {
  for (let port = preferred; port < preferred + 100; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${preferred}-${preferred + 99}`);
}

/** Polls /healthz until the Worker answers, or fails after `timeoutMs`. */
export async function waitForHealth(url: string, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error('wrangler dev exited before the Worker was ready');
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the Worker did not answer ${url}/healthz within ${timeoutMs / 1000} s`);
}

/** The first bundled sample photo (data/sample/<CLASS>/*.jpeg). */
export function sampleImage(): string {
  const dir = join(ROOT, 'data/sample');
  const classDirs = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const cls of classDirs.sort()) {
    const file = readdirSync(join(dir, cls)).sort().find((f) => /\.jpe?g$/i.test(f));
    if (file) return join(dir, cls, file);
  }
  throw new Error('no JPEG under data/sample/');
}
