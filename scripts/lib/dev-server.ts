import type { ChildProcess } from 'node:child_process';
import { createDevice } from '../../worker/devices/store.ts';
import { withLocalBindings } from './local-bindings.ts';
import { freePort, waitForHealth } from './local-setup.ts';
import { recordLocalWorker } from './local-worker.ts';
import { d1Registry } from '../../worker/models/registry.ts';
import { formatManifest, type ModelVersionFiles } from '../../shared/index.ts';
import { isPublished, publishVersion } from './publish-core.ts';
import { killGroup, spawnWranglerDev } from './wrangler-cli.ts';

export interface DevServer {
  url: string;
  /** Everything wrangler printed so far. */
  output(): string;
  /** Stops the wrangler process group and waits until it has exited. */
  stop(): Promise<void>;
}

/** A running `wrangler dev` process group, its output gathered. */
interface DevProcess {
  output(): string;
  exited(): boolean;
  /** Stops the process group and waits until wrangler has exited. */
  stop(): Promise<void>;
}

/** Starts `wrangler dev` with `args` (and extra environment), its output gathered for error messages. */
export function spawnDevProcess(args: string[], env: Record<string, string> = {}): DevProcess {
  const child: ChildProcess = spawnWranglerDev(args, 'pipe', env);
  let output = '';
  let exited = false;
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const done = new Promise<void>((resolve) => child.on('exit', () => ((exited = true), resolve())));
  return {
    output: () => output,
    exited: () => exited,
    stop: async () => {
      killGroup(child.pid);
      await done;
    },
  };
}

/**
 * Starts `wrangler dev` on a free loopback port, on the state under `persistTo` (a throwaway
 * folder keeps the developer's own routing and statistics untouched), and waits for /healthz.
 *
 * @example
 * const dev = await startDevServer({ persistTo: '/tmp/state' });
 * try { await fetch(`${dev.url}/healthz`); } finally { await dev.stop(); }
 */
export async function startDevServer(options: { persistTo?: string; port?: number; timeoutMs?: number; extraArgs?: string[] } = {}): Promise<DevServer> {
  const port = options.port ?? (await freePort(8900));
  const args = ['--ip', '127.0.0.1', '--port', String(port), ...(options.persistTo ? ['--persist-to', options.persistTo] : []), ...(options.extraArgs ?? [])];
  const dev = spawnDevProcess(args);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, options.timeoutMs ?? 120_000, dev.exited);
  } catch (error) {
    await dev.stop();
    throw new Error(`${(error as Error).message}\n${dev.output()}`);
  }
  const forget = recordLocalWorker(url, options.persistTo);
  return { url, output: dev.output, stop: () => (forget(), dev.stop()) };
}

/** A version's files under another version name (same weights), for trying routing locally. */
export function renamedVersion(version: ModelVersionFiles, name: string): ModelVersionFiles {
  const manifest = { ...version.manifest, version: name };
  return { manifest, manifestBytes: new TextEncoder().encode(formatManifest(manifest)), files: version.files };
}

/**
 * Fills the local state under `persistTo` (migrations applied): publishes `versions` (skipping
 * those already there) and makes an admin token and `devices` device tokens.
 */
export async function seedLocalState(persistTo: string, versions: ModelVersionFiles[], devices: number): Promise<{ admin: string; devices: string[] }> {
  return withLocalBindings(async (env) => {
    const target = { bucket: env.MODELS, registry: d1Registry(env.DB) };
    for (const version of versions) {
      if (!(await isPublished(target, version))) await publishVersion(target, version);
    }
    const stamp = Date.now().toString(36);
    const admin = (await createDevice(env.DB, `admin-${stamp}`, true)).token;
    const tokens = [];
    for (let i = 0; i < devices; i++) tokens.push((await createDevice(env.DB, `device-${stamp}-${i}`, false)).token);
    return { admin, devices: tokens };
  }, persistTo);
}
