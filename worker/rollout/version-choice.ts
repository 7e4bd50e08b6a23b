import { deviceBucket, pickVersion, randomBucket } from './assignment.ts';
import type { Device } from '../devices/store.ts';
import { HttpError, quoted } from '../errors.ts';
import { acquireModel, type ModelLease } from '../models/cache.ts';
import { currentRouting, type RoutingConfig } from './routing-store.ts';
import { lookUpDefaultCandidates, lookUpVersion } from '../models/version-lookup.ts';

/** How the answering version was chosen. */
export type RouteKind = 'pin' | 'split' | 'default';

/** The version that answers a request, held until `release()`. */
export interface ServedModel extends ModelLease {
  version: string;
  /** The version routing chose; another one answers when it is unhealthy (a fallback). */
  assigned: string;
  route: RouteKind;
  /** The shadow version of the routing in force, if any. */
  shadow: string | null;
}

/** A refusal that still knows which version the request was meant for, for the statistics. */
export class ServeError extends HttpError {
  constructor(inner: HttpError, readonly assigned: string, readonly route: RouteKind) {
    super(inner.code, inner.message);
  }
}

const DEFAULT_CACHE_SECONDS = 5;
const warned = new Set<string>();
let cached: { config: RoutingConfig | null; at: number } | undefined;

/**
 * The routing in force, read from D1 at most once per ROUTING_CACHE_SECONDS per isolate (the
 * isolate that makes a change applies it at once, see `rememberRouting`).
 */
async function routingInForce(env: Env): Promise<RoutingConfig | null> {
  const ttl = Number(env.ROUTING_CACHE_SECONDS || DEFAULT_CACHE_SECONDS) * 1000;
  if (cached && Date.now() - cached.at < ttl) return cached.config;
  const config = await currentRouting(env.DB);
  cached = { config, at: Date.now() };
  return config;
}

/** Makes a change this isolate just wrote take effect here without waiting for the cache. */
export function rememberRouting(config: RoutingConfig | null): void {
  cached = { config, at: Date.now() };
}

/** Whether a device may ask for a version by name (admins always; devices when listed for it). */
function mayPin(device: Device, version: string): boolean {
  return device.admin || device.pins.includes('*') || device.pins.includes(version);
}

/**
 * Loads a published version by name for one use (an answer, a shadow run), found as every version
 * is: trusted for MODEL_RECHECK_SECONDS, not read from the bucket per request.
 */
export async function leaseVersion(env: Env, version: string, role: 'model' | 'shadow' = 'model'): Promise<ModelLease> {
  const stored = await lookUpVersion(env, version);
  if (!stored) throw new HttpError('model_not_found', `${role} version ${quoted(version)} is not published`);
  return acquireModel(env, stored);
}

/**
 * Leases the first version `next` names that can serve, passing over those that cannot (each
 * logged once per isolate and reason: a broken version would otherwise log on every request).
 * Returns why each failed when none can.
 */
async function firstServing(
  next: (failed: ReadonlySet<string>) => string | null,
  leaseOf: (version: string) => Promise<ModelLease>,
  share: string,
): Promise<{ version: string; lease: ModelLease } | { failures: Map<string, HttpError> }> {
  const failures = new Map<string, HttpError>();
  for (let version = next(new Set()); version; version = next(new Set(failures.keys()))) {
    try {
      return { version, lease: await leaseOf(version) };
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      const note = `routing: ${version} cannot serve (${error.message}); ${share}`;
      if (!warned.has(note)) {
        warned.add(note);
        console.warn(note);
      }
      failures.set(version, error);
    }
  }
  return { failures };
}

const noneServes = (failures: Map<string, HttpError>, what: string) =>
  new HttpError('no_healthy_version', `${what}: ${[...failures].map(([version, error]) => `${version}: ${error.message}`).join('; ')}`);

/**
 * Chooses and loads the version that answers: a pinned one (header or query, when the token
 * may), else the routing split (sticky by device, falling back to the other healthy versions of
 * the split when the chosen one fails its checks), else the default version (the newest
 * published that passes its checks, or MODEL_VERSION alone).
 *
 * @example
 * const served = await serveModel(env, device, c.req.header('x-model-version'));
 */
export async function serveModel(env: Env, device: Device, pin?: string): Promise<ServedModel> {
  const routing = await routingInForce(env);
  const shadow = routing?.shadow ?? null;
  if (pin) {
    if (!mayPin(device, pin)) {
      throw new HttpError('forbidden', `this token may not choose model version ${quoted(pin)}; an admin can list it for the device (pins)`);
    }
    try {
      return { ...(await leaseVersion(env, pin)), version: pin, assigned: pin, route: 'pin', shadow };
    } catch (error) {
      throw error instanceof HttpError && error.status !== 404 ? new ServeError(error, pin, 'pin') : error;
    }
  }
  if (!routing) {
    const candidates = await lookUpDefaultCandidates(env);
    const assigned = candidates[0].version;
    const byName = new Map(candidates.map((stored) => [stored.version, stored]));
    const next = (failed: ReadonlySet<string>) => candidates.find((stored) => !failed.has(stored.version))?.version ?? null;
    const instead = candidates.length > 1 ? 'the next newest published version answers instead' : 'unpinned requests get its refusal';
    const found = await firstServing(next, (version) => acquireModel(env, byName.get(version)!), instead);
    if ('lease' in found) return { ...found.lease, version: found.version, assigned, route: 'default', shadow };
    // MODEL_VERSION alone: its own refusal, as for a pin.
    const refusal = candidates.length === 1 ? found.failures.get(assigned)! : noneServes(found.failures, 'no published version can serve');
    throw new ServeError(refusal, assigned, 'default');
  }
  const bucket = routing.sticky ? await deviceBucket(routing.salt, device.name) : randomBucket();
  const assigned = pickVersion(routing.split, bucket)!;
  const next = (failed: ReadonlySet<string>) => pickVersion(routing.split, bucket, failed);
  const found = await firstServing(next, (version) => leaseVersion(env, version), 'its share goes to the other versions of the split');
  if ('lease' in found) return { ...found.lease, version: found.version, assigned, route: 'split', shadow };
  throw new ServeError(noneServes(found.failures, 'no version of the routing split can serve'), assigned, 'split');
}

/** The version a request pins, from the X-Model-Version header or the `version` query (they must agree). */
export function requestedPin(header: string | undefined, query: string | undefined): string | undefined {
  const fromHeader = header?.trim() || undefined;
  if (fromHeader && query && fromHeader !== query) {
    throw new HttpError('conflicting_version', `X-Model-Version ${quoted(fromHeader)} and ?version=${quoted(query)} name different versions; send one`);
  }
  return fromHeader ?? (query || undefined);
}
