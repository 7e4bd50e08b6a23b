import { evaluationFromConfusion } from '../../shared/index.ts';
import type { Database } from '../db.ts';

type Row = Record<string, unknown> & { version: string };
type Table = 'predictions' | 'shadow_results';

// Nearest-rank percentiles per version, computed in D1 so only two numbers per version come back.
const latencySql = (table: Table) => `
  WITH ranked AS (
    SELECT version, latency_ms AS ms,
      ROW_NUMBER() OVER (PARTITION BY version ORDER BY latency_ms) AS rn,
      COUNT(*) OVER (PARTITION BY version) AS n
    FROM ${table} WHERE created_at >= ?1 AND status = 200)
  SELECT version, MAX(CASE WHEN rn = (n * 50 + 99) / 100 THEN ms END) AS p50, MAX(CASE WHEN rn = (n * 95 + 99) / 100 THEN ms END) AS p95
  FROM ranked GROUP BY version`;

const classesSql = (table: Table) =>
  `SELECT version, top_label AS label, COUNT(*) AS n FROM ${table} WHERE created_at >= ?1 AND status = 200 GROUP BY version, top_label`;

// Class lists come from the stored probabilities ({label: p} in the model's order), so the
// statistics do not depend on the versions still being in the bucket.
const classListSql = (table: Table) =>
  `SELECT version, MAX(probabilities) AS probabilities FROM ${table} WHERE created_at >= ?1 AND status = 200 AND probabilities IS NOT NULL GROUP BY version`;

const feedbackSql = (table: Table, key: string) => `
  SELECT t.version AS version, f.label AS truth, t.top_label AS predicted, COUNT(*) AS n
  FROM feedback f JOIN ${table} t ON t.${key} = f.prediction_id
  WHERE t.created_at >= ?1 AND t.status = 200 GROUP BY t.version, f.label, t.top_label`;

const QUERIES = [
  `SELECT version, COUNT(*) AS n, SUM(status <> 200) AS errors, SUM(assigned <> version) AS answered_for,
     AVG(CASE WHEN status = 200 THEN top_probability END) AS mean_top, COALESCE(SUM(review), 0) AS review
   FROM predictions WHERE created_at >= ?1 GROUP BY version`,
  'SELECT assigned AS version, COUNT(*) AS n FROM predictions WHERE created_at >= ?1 AND assigned <> version GROUP BY assigned',
  'SELECT version, error_code AS code, COUNT(*) AS n FROM predictions WHERE created_at >= ?1 AND status <> 200 GROUP BY version, error_code',
  classesSql('predictions'),
  latencySql('predictions'),
  feedbackSql('predictions', 'id'),
  classListSql('predictions'),
  `SELECT version, COUNT(*) AS n, SUM(status <> 200) AS errors, COALESCE(SUM(agreed), 0) AS agreed, COUNT(agreed) AS compared,
     AVG(CASE WHEN status = 200 THEN top_probability END) AS mean_top
   FROM shadow_results WHERE created_at >= ?1 GROUP BY version`,
  classesSql('shadow_results'),
  latencySql('shadow_results'),
  feedbackSql('shadow_results', 'prediction_id'),
  classListSql('shadow_results'),
];

const byVersion = (rows: Row[]) => new Map(rows.map((r) => [r.version, r]));

function counts(rows: Row[], version: string, key: string): Record<string, number> {
  return Object.fromEntries(rows.filter((r) => r.version === version).map((r) => [String(r[key] ?? 'unknown'), Number(r.n)]));
}

function latency(rows: Map<string, Row>, version: string) {
  const row = rows.get(version);
  return row && row.p50 !== null ? { p50: Number(row.p50), p95: Number(row.p95) } : null;
}

/** Accuracy, macro-F1 and confusion matrix of a version from the confirmed labels of its answers. */
function evaluation(rows: Row[], classLists: Map<string, Row>, version: string) {
  const mine = rows.filter((r) => r.version === version);
  const list = classLists.get(version)?.probabilities;
  if (!mine.length || typeof list !== 'string') return null;
  const classes = Object.keys(JSON.parse(list) as Record<string, number>);
  const confusion = classes.map(() => new Array<number>(classes.length).fill(0));
  for (const row of mine) {
    const truth = classes.indexOf(String(row.truth));
    const predicted = classes.indexOf(String(row.predicted));
    if (truth >= 0 && predicted >= 0) confusion[truth][predicted] += Number(row.n);
  }
  const { accuracy, macroF1, perClass } = evaluationFromConfusion(classes, confusion);
  return { count: mine.reduce((n, r) => n + Number(r.n), 0), accuracy, macroF1, classes, confusion, perClass };
}

const meanOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/**
 * Per-version statistics of the predictions made since `since` (ISO 8601; '' for all): requests,
 * errors, fallbacks, latency p50/p95, predicted classes, mean top probability, review flags, live
 * accuracy from feedback, and the same for the version's runs as the shadow, with agreement.
 *
 * @example
 * const { versions } = await versionStats(env.DB, '2026-05-01T00:00:00.000Z');
 */
export async function versionStats(db: Database, since: string) {
  const results = (await db.batch(QUERIES.map((sql) => db.prepare(sql).bind(since)))) as { results: Row[] }[];
  const [main, sentElsewhere, errorCodes, classes, latencies, feedback, classLists, shadowMain, shadowClasses, shadowLatencies, shadowFeedback, shadowLists] =
    results.map((r) => r.results);
  const mainBy = byVersion(main);
  const shadowBy = byVersion(shadowMain);
  const elsewhereBy = byVersion(sentElsewhere);
  const versions = [...new Set([...mainBy.keys(), ...shadowBy.keys(), ...elsewhereBy.keys()])].sort();
  return versions.map((version) => {
    const m = mainBy.get(version);
    const s = shadowBy.get(version);
    return {
      version,
      requests: Number(m?.n ?? 0),
      errors: Number(m?.errors ?? 0),
      errorsByCode: counts(errorCodes, version, 'code'),
      fallbacks: { answeredFor: Number(m?.answered_for ?? 0), sentElsewhere: Number(elsewhereBy.get(version)?.n ?? 0) },
      latencyMs: latency(byVersion(latencies), version),
      meanTopProbability: meanOrNull(m?.mean_top),
      review: Number(m?.review ?? 0),
      predictedClasses: counts(classes, version, 'label'),
      feedback: evaluation(feedback, byVersion(classLists), version),
      shadow: s
        ? {
            runs: Number(s.n),
            errors: Number(s.errors),
            agreed: Number(s.agreed),
            agreement: Number(s.compared) ? Number(s.agreed) / Number(s.compared) : null,
            latencyMs: latency(byVersion(shadowLatencies), version),
            meanTopProbability: meanOrNull(s.mean_top),
            predictedClasses: counts(shadowClasses, version, 'label'),
            feedback: evaluation(shadowFeedback, byVersion(shadowLists), version),
          }
        : null,
    };
  });
}
