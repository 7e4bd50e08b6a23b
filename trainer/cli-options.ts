import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantizationDtypes, type QuantizationDtype } from '../shared/index.ts';
import { FlagError } from './errors.ts';

/** The repository root, so defaults work from any working directory. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const defaultDataDir = path.join(repoRoot, 'data', 'sample');
export const defaultModelsDir = path.join(repoRoot, 'models');
export const defaultCacheDir = path.join(repoRoot, '.cache', 'pixels');

export function intFlag(flag: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new FlagError(flag, value, `give a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}`);
    }
    return n;
  };
}

export function numberFlag(flag: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new FlagError(flag, value, `give a number from ${min} to ${max}`);
    return n;
  };
}

export function choiceFlag<T extends string>(flag: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!choices.includes(value as T)) throw new FlagError(flag, value, `use one of ${choices.join(', ')}`);
    return value as T;
  };
}

export const quantizeFlag = choiceFlag<QuantizationDtype>('quantize', quantizationDtypes);

export function versionFlag(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value)) {
    throw new FlagError('version', value, 'use letters, digits, dot, dash or underscore (up to 64), starting with a letter or digit');
  }
  return value;
}

export function regexFlag(value: string): string {
  try {
    new RegExp(value);
  } catch (err) {
    throw new FlagError('group-pattern', value, `it is not a valid regular expression (${(err as Error).message})`);
  }
  return value;
}

/** A version name from the date and a short random hash, e.g. `20261124-1532-a3f9c1`. */
export function defaultVersion(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 13);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * A file the command will write, checked before any work starts: its folder must exist and
 * it must not itself be a folder.
 */
export function outputFileFlag(flag: string, example: string) {
  return (value: string): string => {
    const dir = path.dirname(path.resolve(value));
    const kind = (p: string) => statSync(p, { throwIfNoEntry: false });
    const parent = kind(dir);
    if (!parent) throw new FlagError(flag, value, `folder ${dir} does not exist; create it or write the file elsewhere`);
    if (!parent.isDirectory()) throw new FlagError(flag, value, `${dir} is a file, not a folder`);
    if (kind(value)?.isDirectory()) throw new FlagError(flag, value, `it is a folder; give a file name such as ${example}`);
    return value;
  };
}
