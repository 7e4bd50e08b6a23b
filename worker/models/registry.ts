import { sha256Hex } from '../../shared/index.ts';
import type { Database } from '../db.ts';
import { HttpError } from '../errors.ts';

// No tfjs here: `npm run publish` and `npm run route -- --local` use this code in Node too.

/**
 * What publishing recorded about a version, in D1 and not in the bucket: someone who can write
 * the bucket cannot also change what a version is.
 */
export interface PublishedRecord {
  /** Hex SHA-256 of the version's manifest.json as published. */
  sha256: string;
  publishedAt: string;
}

/** Where publishing records a manifest's digest: D1 through the binding, or the remote D1 through wrangler. */
export interface ManifestRegistry {
  recorded(version: string): Promise<string | null>;
  /** Records a version's digest, once: a second record of a version is refused. */
  record(version: string, sha256: string): Promise<void>;
}

const SELECT = 'SELECT version, manifest_sha256, published_at FROM model_versions';
interface Row {
  version: string;
  manifest_sha256: string;
  published_at: string;
}

/** What a publish records: the digest and when (the default version is the newest). */
export const RECORD_SQL = 'INSERT INTO model_versions (version, manifest_sha256, published_at) VALUES (?1, ?2, ?3)';

/** The registry in a D1 database (the Worker's binding, or the local one through wrangler's proxy). */
export function d1Registry(db: Database): ManifestRegistry {
  return {
    recorded: async (version) => (await publishedRecord(db, version))?.sha256 ?? null,
    record: async (version, sha256) => void (await db.prepare(RECORD_SQL).bind(version, sha256, new Date().toISOString()).run()),
  };
}

export async function publishedRecord(db: Database, version: string): Promise<PublishedRecord | null> {
  const row = await db.prepare(`${SELECT} WHERE version = ?`).bind(version).first<Row>();
  return row && { sha256: row.manifest_sha256, publishedAt: row.published_at };
}

/** Every recorded version. */
export async function publishedRecords(db: Database): Promise<Map<string, PublishedRecord>> {
  const { results } = await db.prepare(SELECT).all<Row>();
  return new Map(results.map((row) => [row.version, { sha256: row.manifest_sha256, publishedAt: row.published_at }]));
}

/**
 * Why a manifest is not the one published under `version` (null when it is): never recorded, or
 * another digest. Compared before the manifest is even parsed: classes, preprocessing and the
 * inference policy are covered by no file hash and by no self-test on normalised inputs.
 */
export function manifestMismatch(version: string, sha256: string, record: PublishedRecord | null | undefined): string | null {
  if (!record) return `model ${version}: its manifest was never recorded by \`npm run publish\` (no sha256 in D1); publish it from the folder the trainer wrote`;
  if (record.sha256 === sha256) return null;
  return `model ${version}: manifest.json is not the one published (sha256 ${sha256.slice(0, 12)}…, published ${record.sha256.slice(0, 12)}…); restore it with \`npm run publish\` from the folder the trainer wrote`;
}

/**
 * Refuses (503 `model_integrity`) a manifest whose bytes are not the ones recorded when the
 * version was published. Returns their digest.
 *
 * @example
 * const sha256 = await assertPublishedManifest(env.DB, 'v2', bytes);
 */
export async function assertPublishedManifest(db: Database, version: string, bytes: Uint8Array): Promise<string> {
  const [sha256, record] = await Promise.all([sha256Hex(bytes as Uint8Array<ArrayBuffer>), publishedRecord(db, version)]);
  const problem = manifestMismatch(version, sha256, record);
  if (problem) throw new HttpError('model_integrity', problem);
  return sha256;
}
