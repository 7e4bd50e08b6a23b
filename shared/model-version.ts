import { sha256Hex } from './hash.ts';
import { parseManifest, type Manifest } from './manifest.ts';

/** The file that lists a version's other files with their sha256: written last, read first. */
export const MANIFEST_FILE = 'manifest.json';
/** The trainer's report: a document about the version, not part of what answers. */
export const REPORT_FILE = 'report.html';

/** A version's manifest, its exact bytes, and the files it lists, each verified. */
export interface ModelVersionFiles {
  manifest: Manifest;
  manifestBytes: Uint8Array;
  files: Map<string, Uint8Array>;
}

/**
 * What is wrong with a version's files: the manifest missing or unreadable, or a file it lists
 * missing or not the bytes it lists. Each reader (a folder, a bucket) words it for its user.
 */
export class ModelVersionError extends Error {
  override name = 'ModelVersionError';
  constructor(
    readonly problem: 'no-manifest' | 'invalid-manifest' | 'missing' | 'mismatch',
    readonly path: string,
    message: string,
    readonly actual?: { bytes: number; sha256: string },
  ) {
    super(message);
  }
}

/** Parses a manifest from its bytes; throws `invalid-manifest` with the first problem found. */
export function parseManifestBytes(bytes: Uint8Array): Manifest {
  try {
    return parseManifest(JSON.parse(new TextDecoder().decode(bytes)));
  } catch (error) {
    throw new ModelVersionError('invalid-manifest', MANIFEST_FILE, (error as Error).message);
  }
}

/** Returns `bytes` when they are the file the manifest lists (size and sha256); throws otherwise. */
export async function verifyFile(entry: Manifest['files'][number], bytes: Uint8Array | null): Promise<Uint8Array> {
  if (!bytes) throw new ModelVersionError('missing', entry.path, `${entry.path} is missing`);
  const sha256 = await sha256Hex(bytes as Uint8Array<ArrayBuffer>);
  if (bytes.length !== entry.bytes || sha256 !== entry.sha256) {
    throw new ModelVersionError('mismatch', entry.path, `${entry.path} does not match its sha256 in the manifest`, { bytes: bytes.length, sha256 });
  }
  return bytes;
}

/** How `readModelVersion` reads: `read` answers a file's bytes by its path in the version, or null when absent. */
export interface ReadModelVersionOptions {
  read: (path: string) => Promise<Uint8Array | null>;
  /** Files the manifest lists that the caller does not need (e.g. the report, to serve). */
  skip?: readonly string[];
}

/**
 * Reads a model version (a trainer's folder, a bucket) and verifies every file its manifest lists
 * against its size and sha256, so a damaged or edited version is never used as the original.
 *
 * @example
 * const { manifest, files } = await readModelVersion({ read: (p) => readFile(join(dir, p)).then((b) => new Uint8Array(b)) });
 */
export async function readModelVersion({ read, skip = [] }: ReadModelVersionOptions): Promise<ModelVersionFiles> {
  const manifestBytes = await read(MANIFEST_FILE);
  if (!manifestBytes) throw new ModelVersionError('no-manifest', MANIFEST_FILE, `${MANIFEST_FILE} is missing`);
  const manifest = parseManifestBytes(manifestBytes);
  const files = new Map<string, Uint8Array>();
  for (const entry of manifest.files) {
    if (!skip.includes(entry.path)) files.set(entry.path, await verifyFile(entry, await read(entry.path)));
  }
  return { manifest, manifestBytes, files };
}
