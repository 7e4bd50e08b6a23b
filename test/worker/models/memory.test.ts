import { beforeAll, describe, expect, it } from 'vitest';
import { classifySettled, jsonInit, newToken, publishFixture, settled } from '../helpers.ts';

let admin: string;
const info = async (vars = {}) => (await (await settled('/v1/info', jsonInit(admin, 'GET'), vars)).json<any>()).models;
const use = async (version: string, vars = {}) => expect((await classifySettled(admin, { pin: version, vars })).status).toBe(200);

beforeAll(async () => {
  for (const version of ['m-v1', 'm-v2', 'm-v3']) await publishFixture(version);
  admin = await newToken(true);
});

describe('resident versions', () => {
  it('two versions of the default model are resident at once within 64 MB', async () => {
    await use('m-v1');
    await use('m-v2');
    const models = await info();
    expect(models.versions.map((v: any) => v.version)).toEqual(['m-v2', 'm-v1']);
    expect(models.budgetBytes).toBe(64 * 1024 * 1024);
    expect(models.residentBytes).toBe(models.versions[0].bytes + models.versions[1].bytes);
    expect(models.residentBytes).toBeLessThan(64 * 1024 * 1024);
    console.log(`memory: two versions resident: weights and Winograd transforms ${models.residentBytes} bytes (${(models.residentBytes / 1048576).toFixed(2)} MiB), wasm heap ${(models.heapBytes / 1048576).toFixed(1)} MiB`);
  });

  it('past the budget, the least recently used version is unloaded first', async () => {
    const one = (await info()).versions[0].bytes;
    // Room for one and a half versions.
    const vars = { MODEL_MEMORY_BUDGET_MB: String((one * 1.5) / 1048576) };
    await use('m-v1', vars);
    expect((await info(vars)).versions.map((v: any) => v.version)).toEqual(['m-v1']);
    await use('m-v3', vars);
    expect((await info(vars)).versions.map((v: any) => v.version)).toEqual(['m-v3']);
    const { models } = await (await settled('/v1/models', jsonInit(admin, 'GET'))).json<any>();
    expect(Object.fromEntries(models.map((m: any) => [m.version, m.status]))).toEqual({ 'm-v1': 'published', 'm-v2': 'published', 'm-v3': 'ready' });
    // An unloaded version loads again when asked for.
    await use('m-v2', vars);
    expect((await info(vars)).versions.map((v: any) => v.version)).toEqual(['m-v2']);
  });
});
