import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './wrangler-cli.ts';

export const MODELS_DIR = join(ROOT, 'models');

/**
 * The folder of the model version the repository ships (or CELLSENSE_MODEL_DIR): `models/default.json`'s
 * `{"version"}` when present, else the last version folder by name (as `npm run evaluate` picks).
 *
 * @example
 * defaultModelDir(); // "/repo/models/2026-01-01-compact"
 */
export function defaultModelDir(): string {
  // For trying another version with `npm start` without touching models/.
  if (process.env.CELLSENSE_MODEL_DIR) return process.env.CELLSENSE_MODEL_DIR;
  const pointer = join(MODELS_DIR, 'default.json');
  if (existsSync(pointer)) {
    const { version } = JSON.parse(readFileSync(pointer, 'utf8')) as { version?: string };
    if (!version) throw new Error(`${pointer} must be {"version": "<folder under models/>"}`);
    return join(MODELS_DIR, version);
  }
  const folders = existsSync(MODELS_DIR)
    ? readdirSync(MODELS_DIR).filter((name) => !name.startsWith('.') && statSync(join(MODELS_DIR, name)).isDirectory()).sort()
    : [];
  if (!folders.length) throw new Error('no model version folder under models/; train one with `npm run train` or set CELLSENSE_MODEL_DIR');
  // The same rule as `npm run evaluate` without --model: the newest (last by name) version.
  return join(MODELS_DIR, folders[folders.length - 1]);
}
