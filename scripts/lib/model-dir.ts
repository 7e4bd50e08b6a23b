import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifest, sha256Hex, type Manifest } from '../../shared/index.ts';
import type { ModelVersionFiles } from './publish-core.ts';

/**
 * Reads a trainer version folder (`OUT/<version>/`) and checks every file the manifest lists
 * against its size and sha256, so a damaged folder is refused before anything is uploaded.
 *
 * @example
 * const { manifest, files } = await readModelDir('models/2026-01-01-compact');
 */
export async function readModelDir(dir: string): Promise<ModelVersionFiles> {
  let manifestBytes: Uint8Array;
  try {
    manifestBytes = new Uint8Array(await readFile(join(dir, 'manifest.json')));
  } catch {
    throw new Error(`${dir} is not a model version folder: it has no manifest.json`);
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(JSON.parse(new TextDecoder().decode(manifestBytes)));
  } catch (error) {
    throw new Error(`${dir}/manifest.json is not a valid manifest: ${(error as Error).message}`);
  }
  const present = new Set(await readdir(dir));
  const files = new Map<string, Uint8Array>();
  for (const entry of manifest.files) {
    if (!present.has(entry.path)) throw new Error(`${dir}: ${entry.path} is listed in the manifest but missing`);
    const bytes = new Uint8Array(await readFile(join(dir, entry.path)));
    const digest = await sha256Hex(bytes);
    if (bytes.length !== entry.bytes || digest !== entry.sha256) {
      throw new Error(`${dir}: ${entry.path} does not match the manifest (${bytes.length} bytes, sha256 ${digest.slice(0, 12)}...)`);
    }
    files.set(entry.path, bytes);
  }
  if (!files.has('model.json')) throw new Error(`${dir}: the manifest does not list model.json`);
  return { manifest, manifestBytes, files };
}
