import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { ClassifiedImage } from '../../../worker/inference/classify-images.ts';
import { recordPredictions, recordShadows, type PredictionRecord, type ShadowRecord } from '../../../worker/stats/record.ts';

const classes = ['EOSINOPHIL', 'LYMPHOCYTE', 'MONOCYTE', 'NEUTROPHIL'];

function record(id: string, probabilities: number[] | null, review = false, domainScore: number | null = null): PredictionRecord {
  const top = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
  const reasons = review ? ['low_confidence', 'out_of_domain'] : [];
  const classified = probabilities
    ? ({ classes, probabilities, result: { top: { label: classes[top], probability: probabilities[top] }, review, reasons, domainScore } } as unknown as ClassifiedImage)
    : null;
  return {
    id, requestId: `req-${id}`, version: 'v1', assigned: 'v1', route: 'default', device: "lab-'1\"", status: probabilities ? 200 : 400,
    errorCode: probabilities ? null : 'invalid_image', classified, latencyMs: 17, createdAt: '2026-11-28T06:00:00.000Z',
  };
}

describe('recordPredictions', () => {
  it.each([
    ['one answered image', [record('a', [0.999999992396967, 3.914294171082156e-9, 1.2e-300, 0.1 + 0.2])]],
    ['a failure beside answers, flagged for review, in one statement', [record('b', [0.25, 0.25, 0.25, 0.25], true, 1.234), record('c', null), record('d', [1 / 3, 2 / 3, 0, 0], false, 0.1 + 0.2)]],
    ['a burst of 64 (more than a statement could bind one by one)', Array.from({ length: 64 }, (_, i) => record(`burst-${i}`, [i / 64, 1 - i / 64, 0, 0]))],
  ])('%s: every row stored exactly as sent', async (_, records) => {
    await recordPredictions(env.DB, records);
    for (const r of records) {
      const row = await env.DB.prepare('SELECT * FROM predictions WHERE id = ?').bind(r.id).first<Record<string, unknown>>();
      const result = r.classified?.result;
      expect(row).toEqual({
        id: r.id, request_id: r.requestId, version: 'v1', assigned: 'v1', route: 'default', device: r.device, status: r.status,
        error_code: r.errorCode, top_label: result?.top.label ?? null, top_probability: result?.top.probability ?? null,
        probabilities: r.classified ? JSON.stringify(Object.fromEntries(classes.map((c, i) => [c, r.classified!.probabilities[i]]))) : null,
        review: result ? (result.review ? 1 : 0) : null, latency_ms: 17, created_at: r.createdAt,
        reasons: result ? JSON.stringify(result.reasons) : null, domain_score: result?.domainScore ?? null,
      });
    }
  });

  it('writes nothing for no records', async () => {
    const before = await env.DB.prepare('SELECT COUNT(*) AS n FROM predictions').first<{ n: number }>();
    await recordPredictions(env.DB, []);
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM predictions').first<{ n: number }>()).toEqual(before);
  });
});

describe('recordShadows', () => {
  const shadow = (predictionId: string, probabilities: Record<string, number> | null, agreed: boolean | null): ShadowRecord => ({
    predictionId, version: 'v2', status: probabilities ? 200 : 503, errorCode: probabilities ? null : 'model_integrity',
    topLabel: probabilities ? 'MONOCYTE' : null, topProbability: probabilities ? probabilities.MONOCYTE : null, probabilities, agreed,
    latencyMs: 2.5, createdAt: '2026-11-28T06:00:01.000Z',
  });

  it.each([
    ['an agreeing and a disagreeing run', [shadow('s1', { EOSINOPHIL: 0.1, MONOCYTE: 0.900000000000001 }, true), shadow('s2', { EOSINOPHIL: 0.2, MONOCYTE: 0.8 }, false)]],
    ['a failed run beside one that ran', [shadow('s3', null, null), shadow('s4', { EOSINOPHIL: 1e-9, MONOCYTE: 0.999999999 }, true)]],
  ])('%s: every row stored exactly as sent', async (_, records) => {
    await recordShadows(env.DB, records);
    for (const r of records) {
      const row = await env.DB.prepare('SELECT * FROM shadow_results WHERE prediction_id = ?').bind(r.predictionId).first<Record<string, unknown>>();
      expect(row).toEqual({
        prediction_id: r.predictionId, version: 'v2', status: r.status, error_code: r.errorCode, top_label: r.topLabel, top_probability: r.topProbability,
        probabilities: r.probabilities && JSON.stringify(r.probabilities), agreed: r.agreed === null ? null : r.agreed ? 1 : 0, latency_ms: 2.5, created_at: r.createdAt,
      });
    }
  });
});
