import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * On-disk cache of prepared pixels keyed by file content and preprocessing, so a second
 * run (or a run with another seed or architecture) does not decode again. Writes go to a
 * temp name and are renamed, so an interrupted run never leaves a torn entry.
 */
export class PixelCache {
  private readonly dir: string;

  constructor(root: string, key: string) {
    const keyHash = createHash('sha256').update(key).digest('hex').slice(0, 16);
    this.dir = path.join(root, keyHash);
  }

  private file(contentHash: string): string {
    return path.join(this.dir, contentHash.slice(0, 2), `${contentHash}.bin`);
  }

  async get(contentHash: string, expectedBytes: number): Promise<Uint8Array | null> {
    try {
      const buf = await readFile(this.file(contentHash));
      return buf.length === expectedBytes ? new Uint8Array(buf.buffer, buf.byteOffset, buf.length) : null;
    } catch {
      return null;
    }
  }

  /**
   * Best effort: a cache that cannot be written (read-only disk, full disk) only costs a
   * decode next time, so failures are swallowed rather than failing the image.
   */
  async set(contentHash: string, bytes: Uint8Array): Promise<void> {
    const file = this.file(contentHash);
    // Unique temp name: two files with the same content may be written at once.
    const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    } catch {
      await rm(tmp, { force: true }).catch(() => {});
    }
  }
}
