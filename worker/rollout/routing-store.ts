import { isUniqueViolation, type Database } from '../db.ts';
import { HttpError, quoted } from '../errors.ts';
import { findVersion, listStoredVersions, readVerifiedVersion, VERSION_PATTERN, type VersionBucket, type VersionStore } from '../models/store.ts';

// No tfjs here: `npm run route -- --local` runs this same code in Node against the local D1 and R2.

/** One stored routing configuration: which versions answer with what weight, and the shadow. */
export interface RoutingConfig {
  id: number;
  /** Integer percentages summing to 100. */
  split: Record<string, number>;
  shadow: string | null;
  /** true: a device keeps its version (hash of salt and device name); false: drawn per request. */
  sticky: boolean;
  salt: string;
  action: 'set' | 'rollback';
  /** What a rollback from this configuration restores; null when there is nothing before it. */
  previousId: number | null;
  changedBy: string;
  changedAt: string;
}

/** A change as an admin asks for it; omitted fields keep their current value (shadow: none). */
export interface RoutingChange {
  split: Record<string, number>;
  shadow?: string | null;
  sticky?: boolean;
  salt?: string;
}

export interface RoutingResult {
  routing: RoutingConfig;
  previous: RoutingConfig | null;
}

interface RoutingRow {
  id: number;
  split: string;
  shadow: string | null;
  sticky: number;
  salt: string;
  action: 'set' | 'rollback';
  previous_id: number | null;
  changed_by: string;
  changed_at: string;
}

const fromRow = (row: RoutingRow): RoutingConfig => ({
  id: row.id,
  split: JSON.parse(row.split) as Record<string, number>,
  shadow: row.shadow,
  sticky: row.sticky === 1,
  salt: row.salt,
  action: row.action,
  previousId: row.previous_id,
  changedBy: row.changed_by,
  changedAt: row.changed_at,
});

const SELECT = 'SELECT id, split, shadow, sticky, salt, action, previous_id, changed_by, changed_at FROM routing';

/** The configuration in force (the newest), or null when routing was never set. */
export async function currentRouting(db: Database): Promise<RoutingConfig | null> {
  const row = await db.prepare(`${SELECT} ORDER BY id DESC LIMIT 1`).first<RoutingRow>();
  return row && fromRow(row);
}

async function routingById(db: Database, id: number): Promise<RoutingConfig | null> {
  const row = await db.prepare(`${SELECT} WHERE id = ?`).bind(id).first<RoutingRow>();
  return row && fromRow(row);
}

/** Every change, newest first. */
export async function routingHistory(db: Database, limit = 50): Promise<RoutingConfig[]> {
  const { results } = await db.prepare(`${SELECT} ORDER BY id DESC LIMIT ?`).bind(limit).all<RoutingRow>();
  return results.map(fromRow);
}

function checkSplit(split: Record<string, number>): void {
  const entries = Object.entries(split);
  const shown = entries.map(([v, w]) => `${v}=${w}`).join(', ');
  if (!entries.length) throw new HttpError('invalid_split', 'the split names no version; give e.g. {"v1": 90, "v2": 10}');
  for (const [version, weight] of entries) {
    if (!Number.isInteger(weight) || weight < 0 || weight > 100) {
      throw new HttpError('invalid_split', `weight ${weight} of "${version}" is not an integer percentage from 0 to 100 (split ${shown})`);
    }
  }
  const total = entries.reduce((n, [, w]) => n + w, 0);
  if (total !== 100) throw new HttpError('invalid_split', `the weights sum to ${total}, not 100 (split ${shown})`);
}

/** Refuses a version that is unknown, half-published, or whose manifest or files are not the ones published. */
async function checkVersion(store: VersionStore, version: string, role: string): Promise<void> {
  const bucket = store.MODELS;
  if (!VERSION_PATTERN.test(version)) throw new HttpError('unknown_version', `${role} ${quoted(version)} is not a valid version name`);
  const stored = await findVersion(bucket, version);
  if (!stored) {
    const { complete, incomplete } = await listStoredVersions(bucket);
    if (incomplete.includes(version)) {
      throw new HttpError('incomplete_version', `${role} "${version}" has files but no manifest: its publish did not finish; run \`npm run publish\` for it again`);
    }
    const known = complete.map((v) => v.version).join(', ') || 'none';
    throw new HttpError('unknown_version', `${role} "${version}" is not published (published: ${known})`);
  }
  try {
    await readVerifiedVersion(store, version, stored);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    throw new HttpError('unverified_version', `${role} "${version}" cannot be served: ${error.message}`);
  }
}

async function checkConfig(db: Database, bucket: VersionBucket, split: Record<string, number>, shadow: string | null): Promise<void> {
  checkSplit(split);
  const store = { MODELS: bucket, DB: db };
  for (const version of Object.keys(split)) await checkVersion(store, version, 'version');
  if (shadow !== null) await checkVersion(store, shadow, 'shadow version');
}

function randomSalt(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Writes a new configuration on top of `current`; a concurrent change from the same state is a 409. */
async function append(db: Database, current: RoutingConfig | null, next: Omit<RoutingConfig, 'id' | 'changedAt'>): Promise<RoutingConfig> {
  let id: number | undefined;
  try {
    const result = await db
      .prepare('INSERT INTO routing (split, shadow, sticky, salt, action, based_on, previous_id, changed_by, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .bind(JSON.stringify(next.split), next.shadow, next.sticky ? 1 : 0, next.salt, next.action, current?.id ?? 0, next.previousId, next.changedBy, new Date().toISOString())
      .run();
    id = result.meta.last_row_id;
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new HttpError('routing_conflict', 'the routing changed while this change was being checked; read it again (GET /v1/routing) and retry');
    }
    throw error;
  }
  const written = id ? await routingById(db, id) : null;
  if (!written) throw new Error(`the routing row just written (id ${id}) cannot be read back`);
  return written;
}

/**
 * Checks a change (weights integer and summing to 100; every version, and the shadow,
 * published, complete and matching its sha256s) and makes it the configuration in force.
 * A refused change writes nothing, so the old configuration keeps serving.
 *
 * @example
 * await setRouting(env.DB, env.MODELS, { split: { v1: 90, v2: 10 }, shadow: 'v3' }, 'lab-admin');
 */
export async function setRouting(db: Database, bucket: VersionBucket, change: RoutingChange, who: string): Promise<RoutingResult> {
  const current = await currentRouting(db);
  const shadow = change.shadow ?? null;
  await checkConfig(db, bucket, change.split, shadow);
  const routing = await append(db, current, {
    split: change.split,
    shadow,
    sticky: change.sticky ?? current?.sticky ?? true,
    salt: change.salt ?? current?.salt ?? randomSalt(),
    action: 'set',
    previousId: current?.id ?? null,
    changedBy: who,
  });
  return { routing, previous: current };
}

/**
 * Restores the configuration that was in force before the current one (its versions checked
 * again); repeated rollbacks walk further back through the history.
 *
 * @example
 * const { routing } = await rollbackRouting(env.DB, env.MODELS, 'lab-admin');
 */
export async function rollbackRouting(db: Database, bucket: VersionBucket, who: string): Promise<RoutingResult> {
  const current = await currentRouting(db);
  const target = current?.previousId ? await routingById(db, current.previousId) : null;
  if (!current || !target) throw new HttpError('nothing_to_roll_back', 'there is no earlier routing configuration to restore');
  await checkConfig(db, bucket, target.split, target.shadow);
  const routing = await append(db, current, { ...target, action: 'rollback', changedBy: who });
  return { routing, previous: current };
}
