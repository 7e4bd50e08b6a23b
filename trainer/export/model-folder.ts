import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelVersionError, readModelVersion, type ModelVersionFiles } from '../../shared/index.ts';
import { defaultModelsDir } from '../cli-options.ts';
import { ModelError } from '../errors.ts';

/**
 * The folder of the repository's default model version, for every command that takes one:
 * CELLSENSE_MODEL_DIR when set (to try another version without touching models/), else
 * `models/default.json`'s `{"version"}`, else the last version folder by name.
 *
 * @example
 * defaultModelDir(); // "/repo/models/bloodcell-20261208-2"
 */
export function defaultModelDir(modelsDir = defaultModelsDir): string {
  if (process.env.CELLSENSE_MODEL_DIR) return process.env.CELLSENSE_MODEL_DIR;
  const pointer = path.join(modelsDir, 'default.json');
  if (existsSync(pointer)) {
    const { version } = JSON.parse(readFileSync(pointer, 'utf8')) as { version?: string };
    if (!version) throw new ModelError(`${pointer} must be {"version": "<folder under ${modelsDir}>"}`);
    return path.join(modelsDir, version);
  }
  const folders = existsSync(modelsDir)
    ? readdirSync(modelsDir).filter((name) => !name.startsWith('.') && statSync(path.join(modelsDir, name)).isDirectory()).sort()
    : [];
  if (!folders.length) throw new ModelError(`no model version folder under ${modelsDir}: pass --model DIR, train one with \`npm run train\`, or set CELLSENSE_MODEL_DIR`);
  return path.join(modelsDir, folders[folders.length - 1]);
}

async function fileOrNull(file: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Reads a version folder the trainer wrote (`OUT/<version>/`) and checks every file the manifest
 * lists against its size and sha256, so a damaged folder is neither evaluated nor uploaded.
 *
 * @example
 * const { manifest, files } = await readModelFolder('models/bloodcell-20261208-2');
 */
export async function readModelFolder(dir: string): Promise<ModelVersionFiles> {
  const manifestFile = path.join(dir, 'manifest.json');
  try {
    const version = await readModelVersion({ read: (file) => fileOrNull(path.join(dir, file)) });
    if (!version.files.has('model.json')) throw new ModelError(`${dir}: the manifest does not list model.json`);
    return version;
  } catch (error) {
    if (!(error instanceof ModelVersionError)) throw error;
    const fix = 'copy it again from where it was trained or published';
    switch (error.problem) {
      case 'no-manifest':
        throw new ModelError(`${dir} is not a model version folder: it has no manifest.json; pass --model with a version folder written by \`npm run train\``);
      case 'invalid-manifest':
        throw new ModelError(`cannot use ${manifestFile}: ${error.message.split('\n')[0]}; pass --model with a version folder written by \`npm run train\``);
      case 'missing':
        throw new ModelError(`model version ${dir} is incomplete: ${error.path} is listed in the manifest but missing; ${fix}`);
      case 'mismatch':
        throw new ModelError(`${path.join(dir, error.path)} does not match its sha256 in ${manifestFile}: the version is damaged; ${fix}`);
    }
  }
}
