import { spawn, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WRANGLER_CONFIG = join(ROOT, 'wrangler.toml');
const WRANGLER_BIN = join(ROOT, 'node_modules/.bin/wrangler');
/** The bucket named in wrangler.toml, for `wrangler r2 object` commands. */
export const BUCKET_NAME = 'cellsense-models';
/** The Worker's name in wrangler.toml (its dev-registry entry). */
export const WORKER_NAME = 'cellsense';

/** Never prompt, never phone home: CI has no stdin. */
// CLOUDFLARE_CF_FETCH_ENABLED=false: Miniflare would otherwise fetch a real `request.cf` from
// workers.cloudflare.com at each start and print a stack trace where that is unreachable; the
// Worker reads nothing from `cf`.
/**
 * `wrangler dev` arguments that lift the per-token rate limits: a benchmark sends hundreds of
 * requests a minute from one token and measures latency, not the limiter.
 */
export const benchmarkVars = ['--var', 'RATE_LIMIT_DEVICE_REQUESTS:100000000', '--var', 'RATE_LIMIT_ADMIN_REQUESTS:100000000'];

const wranglerEnv = { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };

/**
 * Commands that talk to Cloudflare fail at once, with what to set, when there are no
 * credentials (wrangler would otherwise try an interactive login).
 */
export function requireCloudflareCredentials(what: string): void {
  const missing = ['CLOUDFLARE_API_TOKEN', 'CLOUDFLARE_ACCOUNT_ID'].filter((name) => !process.env[name]);
  if (missing.length) {
    throw new Error(
      `${what} needs a Cloudflare account: set ${missing.join(' and ')} (an API token with Workers, R2 and D1 edit rights, and the account id).`,
    );
  }
}

/** Runs wrangler to completion; throws with its output when it fails. */
export function runWrangler(args: string[], options: { quiet?: boolean } = {}): string {
  const result = spawnSync(WRANGLER_BIN, args, { cwd: ROOT, env: wranglerEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    throw new Error(`wrangler ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  }
  if (!options.quiet) process.stderr.write(result.stdout);
  return result.stdout;
}

/** A string literal for SQL sent as text (`wrangler d1 execute --command`, which binds nothing). */
export const sqlString = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** Runs one SQL statement on the Cloudflare D1 database and returns its rows and how many it changed. */
export function remoteD1<T>(sql: string): { results: T[]; changes: number } {
  const out = runWrangler(['d1', 'execute', 'DB', '--remote', '--json', '--command', sql], { quiet: true });
  const [first] = JSON.parse(out) as { results?: T[]; meta?: { changes?: number } }[];
  return { results: first?.results ?? [], changes: first?.meta?.changes ?? 0 };
}

/** Applies the D1 migrations in migrations/ to the local database `wrangler dev` uses (or the one under `persistTo`). */
export function applyLocalMigrations(persistTo?: string): void {
  runWrangler(['d1', 'migrations', 'apply', 'DB', '--local', ...(persistTo ? ['--persist-to', persistTo] : [])], { quiet: true });
}

/**
 * Starts `wrangler dev` in its own process group (workerd outlives a killed wrangler
 * otherwise) and stops that group whenever this process exits or is signalled.
 */
export function spawnWranglerDev(args: string[], stdio: 'inherit' | 'pipe', env: Record<string, string> = {}) {
  const child = spawn(WRANGLER_BIN, ['dev', ...args], { cwd: ROOT, env: { ...wranglerEnv, ...env }, detached: true, stdio: ['ignore', stdio, stdio] });
  // 'exit' handlers run on process.exit, including the one Miniflare's exit hook makes on a signal.
  process.once('exit', () => killGroup(child.pid));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => process.exit(130));
  }
  return child;
}

/** Stops a process group started by spawnWranglerDev. */
export function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    // already gone
  }
}
