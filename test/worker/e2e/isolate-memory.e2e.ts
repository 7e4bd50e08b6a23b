import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchClient, startQuietWorker, type QuietWorker } from '../../../bench/worker/http.ts';
import { defaultModelDir, readModelFolder } from '../../../trainer/export/model-folder.ts';
import { seedLocalState } from '../../../scripts/lib/dev-server.ts';
import { readIsolateMemory } from '../../../bench/worker/isolate-memory.ts';
import { freePort, sampleImage } from '../../../scripts/lib/local-setup.ts';

// The classify bench's memory figure, read from a real `wrangler dev` through its inspector.
const state = mkdtempSync(join(tmpdir(), 'cellsense-memory-'));
let worker: QuietWorker;
let inspectorPort: number;
let token: string;

beforeAll(async () => {
  const base = await readModelFolder(defaultModelDir());
  token = (await seedLocalState(state, [base], 1)).devices[0];
  inspectorPort = await freePort(9500);
  worker = await startQuietWorker(await freePort(8900), ['--inspector-port', String(inspectorPort), '--persist-to', state, '--var', `MODEL_VERSION:${base.manifest.version}`]);
});

afterAll(async () => {
  await worker?.stop();
  rmSync(state, { recursive: true, force: true });
});

describe('readIsolateMemory', () => {
  it('reads the Worker isolate\'s JS heap, idle and after a classify has loaded the model', async () => {
    const idle = await readIsolateMemory(inspectorPort);
    const client = benchClient(worker.port);
    try {
      const res = await client.request('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' }, body: new Uint8Array(readFileSync(sampleImage())) });
      expect(res.status).toBe(200);
    } finally {
      client.close();
    }
    const busy = await readIsolateMemory(inspectorPort);
    // The readings are the Worker's isolate, which holds tfjs and the model (loaded by the warm-up
    // at isolate start, before either reading): more than 4 MiB live (the classify bench reads
    // 15-16 MiB). Sizes, not a growth between the readings: since the warm-up nothing has to grow,
    // and a collection in between can leave less live than before (seen: 9.4 after 12.5 MB).
    for (const memory of [idle, busy]) {
      expect(memory.jsHeapUsedBytes).toBeGreaterThan(4 << 20);
      expect(memory.jsHeapUsedBytes).toBeLessThan(512 << 20);
      expect(memory.jsHeapTotalBytes).toBeGreaterThanOrEqual(memory.jsHeapUsedBytes);
    }
  });

  it('fails with a reason when no inspector listens on the port', async () => {
    await expect(readIsolateMemory(await freePort(9600), 2000)).rejects.toThrow();
  });
});
