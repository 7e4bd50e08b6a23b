import { createScheduledController, env } from 'cloudflare:test';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import worker from '../../../worker/index.ts';
import { pruneOutcomes, retentionDays } from '../../../worker/stats/retention.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-02T03:17:00.000Z');
const ago = (days: number) => new Date(NOW - days * DAY).toISOString();

/** One prediction `days` old, with a shadow result and feedback when asked. */
async function seed(id: string, days: number, extras: { shadow?: boolean; feedback?: boolean } = {}) {
  const at = ago(days);
  const statements = [
    env.DB.prepare(`INSERT INTO predictions (id, request_id, version, assigned, route, device, status, latency_ms, created_at)
      VALUES (?1, ?1, 'v1', 'v1', 'default', 'lab-1', 200, 3, ?2)`).bind(id, at),
  ];
  if (extras.shadow) {
    statements.push(env.DB.prepare(`INSERT INTO shadow_results (prediction_id, version, status, latency_ms, created_at) VALUES (?1, 'v2', 200, 3, ?2)`).bind(id, at));
  }
  if (extras.feedback) {
    statements.push(env.DB.prepare(`INSERT INTO feedback (prediction_id, label, device, created_at) VALUES (?1, 'NEUTROPHIL', 'lab-1', ?2)`).bind(id, ago(0)));
  }
  await env.DB.batch(statements);
}

const ids = async (table: string, column: string) =>
  (await env.DB.prepare(`SELECT ${column} AS id FROM ${table} ORDER BY ${column}`).all<{ id: string }>()).results.map((r) => r.id);

// The handler awaits the whole run, so its promise settling means the deletes are done.
const runCron = (vars: Partial<Env>) => worker.scheduled(createScheduledController({ scheduledTime: NOW, cron: '17 3 * * *' }), { ...env, ...vars });

beforeEach(async () => {
  await env.DB.batch(['feedback', 'shadow_results', 'predictions'].map((t) => env.DB.prepare(`DELETE FROM ${t}`)));
  await seed('old-a', 400, { shadow: true, feedback: true });
  await seed('old-b', 31, { feedback: true });
  await seed('new-a', 29, { shadow: true, feedback: true });
  await seed('new-b', 0);
});

describe('retentionDays', () => {
  it.each([
    { value: undefined, want: null },
    { value: '', want: null },
    { value: '  ', want: null },
    { value: '30', want: 30 },
    { value: ' 365 ', want: 365 },
  ])('$value -> $want', ({ value, want }) => {
    expect(retentionDays({ OUTCOME_RETENTION_DAYS: value as string })).toBe(want);
  });

  it.each(['0', '-5', '1.5', '30d', 'abc', '36501'])('refuses %j, naming the variable and the fix', (value) => {
    expect(() => retentionDays({ OUTCOME_RETENTION_DAYS: value })).toThrow(
      `OUTCOME_RETENTION_DAYS is "${value}"; set it to a whole number of days from 1 to 36500 in wrangler.toml [vars], or leave it empty to keep every outcome`,
    );
  });
});

describe('the daily retention run', () => {
  it('deletes outcomes older than the retention with their shadow results and feedback, and keeps the rest', async () => {
    const logged = vi.spyOn(console, 'info').mockImplementation(() => {});
    await runCron({ OUTCOME_RETENTION_DAYS: '30' });
    expect(logged).toHaveBeenCalledWith(`outcome retention (30 days), created before ${ago(30)}: removed predictions 2, shadow results 1, feedback 2`);
    logged.mockRestore();
    expect(await ids('predictions', 'id')).toEqual(['new-a', 'new-b']);
    expect(await ids('shadow_results', 'prediction_id')).toEqual(['new-a']);
    expect(await ids('feedback', 'prediction_id')).toEqual(['new-a']);
  });

  it.each([
    { name: 'with no retention set (the default)', vars: {} },
    { name: 'with a malformed retention', vars: { OUTCOME_RETENTION_DAYS: 'thirty' } },
  ])('deletes nothing $name', async ({ vars }) => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    await runCron(vars);
    expect(await ids('predictions', 'id')).toEqual(['new-a', 'new-b', 'old-a', 'old-b']);
    expect(await ids('feedback', 'prediction_id')).toEqual(['new-a', 'old-a', 'old-b']);
    if (vars.OUTCOME_RETENTION_DAYS) expect(logged).toHaveBeenCalledWith(expect.stringContaining('OUTCOME_RETENTION_DAYS is "thirty"'));
    logged.mockRestore();
  });

  it('works through a backlog in batches, oldest first, and says when it stopped short', async () => {
    for (let i = 0; i < 5; i++) await seed(`older-${i}`, 100 + i);
    const first = await pruneOutcomes(env.DB, NOW, 30, { chunk: 2, maxChunks: 2 });
    expect(first).toEqual({ cutoff: ago(30), predictions: 4, shadowResults: 1, feedback: 1, complete: false });
    // The oldest went first: old-a (400 days) and the four oldest of the backlog.
    expect(await ids('predictions', 'id')).toEqual(['new-a', 'new-b', 'old-b', 'older-0', 'older-1']);
    const second = await pruneOutcomes(env.DB, NOW, 30, { chunk: 2, maxChunks: 5 });
    expect(second).toEqual({ cutoff: ago(30), predictions: 3, shadowResults: 0, feedback: 1, complete: true });
    expect(await ids('predictions', 'id')).toEqual(['new-a', 'new-b']);
  });
});
