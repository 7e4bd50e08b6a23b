import { tf } from '../inference/backend.ts';
import { HttpError } from '../errors.ts';
import { filesUnchanged, type StoredVersion } from './store.ts';
import { publishedRecord } from './registry.ts';
import { loadVersion, type LoadedModel } from './loader.ts';

/** Where a published version stands, as seen from this isolate. */
type VersionStatus = 'ready' | 'published' | 'invalid' | 'incomplete';

/** A loaded version held for one request; `release` lets the cache unload it again. */
export interface ModelLease {
  loaded: LoadedModel;
  release(): void;
}

interface Entry {
  key: string;
  version: string;
  pending: Promise<LoadedModel>;
  loaded?: LoadedModel;
  refs: number;
  lastUsed: number;
  checkedAt: number;
  evicted: boolean;
  disposed: boolean;
}

// Per isolate, keyed by version and manifest etag so a re-published manifest is checked afresh.
const entries = new Map<string, Entry>();
// Versions refused (with the error and when), so a broken version is not re-read on every request.
const refused = new Map<string, { error: HttpError; at: number }>();
const cacheKey = (stored: StoredVersion) => `${stored.version}@${stored.etag}`;

const DEFAULT_BUDGET_MB = 64;
const DEFAULT_RECHECK_SECONDS = 30;

function numberVar(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** The memory budget for resident versions' weights, from MODEL_MEMORY_BUDGET_MB. */
export const budgetBytes = (env: Env) => numberVar(env.MODEL_MEMORY_BUDGET_MB, DEFAULT_BUDGET_MB) * 1024 * 1024;
/** How long a verified version is trusted before its files are compared with the bucket again. */
export const recheckMs = (env: Env) => numberVar(env.MODEL_RECHECK_SECONDS, DEFAULT_RECHECK_SECONDS) * 1000;

function dispose(entry: Entry): void {
  if (entry.disposed || !entry.loaded) return;
  entry.disposed = true;
  entry.loaded.network.dispose();
}

function evict(entry: Entry): void {
  if (entries.get(entry.key) === entry) entries.delete(entry.key);
  entry.evicted = true;
  // A request still running on it keeps it alive; the last release disposes it.
  if (entry.refs === 0) dispose(entry);
}

/** Unloads least recently used versions (not `keep`) until the resident weights fit the budget. */
function enforceBudget(env: Env, keep: Entry): void {
  const budget = budgetBytes(env);
  const resident = () => [...entries.values()].filter((e) => e.loaded);
  let total = resident().reduce((n, e) => n + e.loaded!.bytes, 0);
  while (total > budget) {
    const victim = resident()
      .filter((e) => e !== keep)
      .sort((a, b) => a.refs - b.refs || a.lastUsed - b.lastUsed)[0];
    // One version larger than the budget on its own is still served, alone.
    if (!victim) break;
    total -= victim.loaded!.bytes;
    evict(victim);
  }
}

function startLoad(env: Env, stored: StoredVersion): Entry {
  const key = cacheKey(stored);
  const entry = { key, version: stored.version, refs: 0, lastUsed: Date.now(), checkedAt: Date.now(), evicted: false, disposed: false } as Entry;
  entry.pending = loadVersion(env, stored.version, stored).then(
    (loaded) => {
      refused.delete(key);
      entry.loaded = loaded;
      entry.checkedAt = Date.now();
      return loaded;
    },
    (error: unknown) => {
      if (entries.get(key) === entry) entries.delete(key);
      if (error instanceof HttpError) refused.set(key, { error, at: Date.now() });
      throw error;
    },
  );
  entries.set(key, entry);
  return entry;
}

/**
 * Whether what was verified still stands: no file (manifest included) replaced in the bucket, and
 * the digest D1 holds for the version still the manifest's. A store that cannot answer says
 * nothing against the verified copy, which keeps serving until the next interval.
 */
async function stillPublished(env: Env, version: string, loaded: LoadedModel): Promise<boolean> {
  const [record, unchanged] = await Promise.all([
    publishedRecord(env.DB, version).catch((error: unknown) => {
      console.warn(`model ${version}: could not re-check its record in D1; keeping the verified copy`, error);
      return undefined;
    }),
    filesUnchanged(env.MODELS, version, loaded.etags),
  ]);
  return unchanged && (record === undefined || record?.sha256 === loaded.manifestSha256);
}

/**
 * The verified model of a version, held until `release()`. Loaded once per isolate (its manifest
 * checked against the digest recorded at publish, every file against the manifest's sha256),
 * kept within the memory budget by unloading the least recently used version, and re-checked
 * every MODEL_RECHECK_SECONDS: a file or manifest replaced in the bucket since it was verified
 * unloads the version, which is then verified afresh (and refused). A refused version is not
 * retried within that interval either.
 *
 * @example
 * const { loaded, release } = await acquireModel(env, stored);
 * try { ... } finally { release(); }
 */
export async function acquireModel(env: Env, stored: StoredVersion): Promise<ModelLease> {
  const key = cacheKey(stored);
  const now = Date.now();
  const failed = refused.get(key);
  if (failed && now - failed.at < recheckMs(env)) throw failed.error;
  let entry = entries.get(key);
  if (entry?.loaded && now - entry.checkedAt >= recheckMs(env)) {
    entry.checkedAt = now;
    if (!(await stillPublished(env, stored.version, entry.loaded)) && !entry.evicted) {
      console.warn(`model ${stored.version}: a file or its manifest changed since it was verified; unloading it`);
      evict(entry);
    }
    entry = entries.get(key);
  }
  entry ??= startLoad(env, stored);
  entry.refs++;
  let loaded: LoadedModel;
  try {
    loaded = await entry.pending;
  } catch (error) {
    entry.refs--;
    throw error;
  }
  entry.lastUsed = Date.now();
  enforceBudget(env, entry);
  let held = true;
  const holder = entry;
  return {
    loaded,
    release() {
      if (!held) return;
      held = false;
      holder.refs--;
      if (holder.evicted && holder.refs === 0) dispose(holder);
    },
  };
}

/** What this isolate knows about a stored version. */
export function statusOf(stored: StoredVersion): { status: VersionStatus; reason?: string } {
  const key = cacheKey(stored);
  const failed = refused.get(key);
  if (failed) return { status: 'invalid', reason: failed.error.message };
  return entries.get(key)?.loaded ? { status: 'ready' } : { status: 'published' };
}

/** The versions resident in this isolate, most recently used first, and the wasm heap they live in. */
export function residentModels(env: Env) {
  const resident = [...entries.values()]
    .filter((e) => e.loaded)
    .sort((a, b) => b.lastUsed - a.lastUsed)
    .map((e) => ({ version: e.version, bytes: e.loaded!.bytes, lastUsed: new Date(e.lastUsed).toISOString() }));
  // Asking for the backend before one has started would start one; with a model resident it has.
  const backend = resident.length ? (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }) : null;
  const heapBytes = backend?.wasm?.HEAPU8.buffer.byteLength ?? null;
  return { budgetBytes: budgetBytes(env), residentBytes: resident.reduce((n, e) => n + e.bytes, 0), heapBytes, versions: resident };
}
