import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../../scripts/lib/dev-server.ts';

// Node side: the document as `wrangler dev` serves it, through the linter an API's users run.
let state: string;
let dev: DevServer;

beforeAll(async () => {
  state = mkdtempSync(join(tmpdir(), 'cellsense-openapi-'));
  dev = await startDevServer({ persistTo: state });
}, 120_000);

afterAll(async () => {
  await dev?.stop();
  if (state) rmSync(state, { recursive: true, force: true });
});

describe('GET /openapi.json', () => {
  it("passes Redocly's recommended rules: no error, and only the warning /healthz cannot answer", async () => {
    const url = `${dev.url}/openapi.json`;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const problems = await lintFromString({ source: await res.text(), absoluteRef: url, config: await createConfig({ extends: ['recommended'] }) });
    const count = (severity: string) => problems.filter((p) => p.severity === severity).length;
    console.log(`openapi lint (Redocly recommended rules): ${count('error')} errors, ${count('warn')} warnings`);
    // GET /healthz needs no token, reads no input and is not rate limited: it has no 4xx to
    // declare, and inventing one to quiet the rule would make the document wrong.
    expect(problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}`)).toEqual(['warn operation-4xx-response #/paths/~1healthz/get/responses']);
  });
});
