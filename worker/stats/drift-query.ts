import { REVIEW_REASONS, type ReviewReason } from '../../shared/index.ts';
import type { Database } from '../db.ts';
import { bucketSeconds, type DriftAlertSettings } from './drift-settings.ts';

/** What a device's answers from one version looked like over a stretch of time. */
export interface DriftFigures {
  answers: number;
  /** Share of the answers flagged for each reason (an answer may have both). */
  reasons: Record<ReviewReason, number>;
  /** Mean `domainScore` of the answers; null for a version without a domain profile. */
  meanDomainScore: number | null;
  /** Answers per top label. */
  classes: Record<string, number>;
}

interface DriftEntry {
  device: string;
  version: string;
  /** Over the alert window: more than `level` of at least `minAnswers` answers out of domain. */
  alert: boolean;
  /** The alert window's figures; null when the device had no answer from this version in it. */
  window: DriftFigures | null;
  /** One element per bucket with answers, oldest first. */
  series: (DriftFigures & { start: string })[];
}

type Row = { device: string; version: string; bucket: number; label: string; n: number; score_sum: number | null; scored: number } & Record<ReviewReason, number>;

// The start of a row's bucket in Unix seconds. D1 binds a JavaScript number as REAL, and the
// division must be an integer one, hence the casts.
const BUCKET_START = "CAST(strftime('%s', created_at) AS INTEGER) / CAST(?2 AS INTEGER) * CAST(?2 AS INTEGER)";

// Per device, version, bucket and label in one scan of the range, so the class mix comes with the
// flags. Only answers recorded with their reasons count: rows from before the reasons were kept
// have none to count. The reasons are a JSON array of known names, so a quoted name is a match.
const figuresSql = (bucketed: boolean) => `
  SELECT device, version, ${bucketed ? BUCKET_START : '0'} AS bucket, top_label AS label, COUNT(*) AS n,
    ${REVIEW_REASONS.map((reason) => `SUM(instr(reasons, '"${reason}"') > 0) AS ${reason}`).join(', ')},
    SUM(domain_score) AS score_sum, COUNT(domain_score) AS scored
  FROM predictions WHERE created_at >= ?1 AND status = 200 AND reasons IS NOT NULL
  GROUP BY device, version, bucket, top_label`;

class Tally {
  answers = 0;
  flagged = Object.fromEntries(REVIEW_REASONS.map((reason) => [reason, 0])) as Record<ReviewReason, number>;
  scoreSum = 0;
  scored = 0;
  classes: Record<string, number> = {};

  add(row: Row): this {
    this.answers += row.n;
    for (const reason of REVIEW_REASONS) this.flagged[reason] += row[reason];
    this.scoreSum += row.score_sum ?? 0;
    this.scored += row.scored;
    this.classes[row.label] = (this.classes[row.label] ?? 0) + row.n;
    return this;
  }

  figures(): DriftFigures {
    return {
      answers: this.answers,
      reasons: Object.fromEntries(REVIEW_REASONS.map((reason) => [reason, this.flagged[reason] / this.answers])) as Record<ReviewReason, number>,
      // To the precision of the domainScore in each response.
      meanDomainScore: this.scored ? Math.round((this.scoreSum / this.scored) * 1000) / 1000 : null,
      classes: Object.fromEntries(Object.entries(this.classes).sort(([a], [b]) => (a < b ? -1 : 1))),
    };
  }
}

interface Pending {
  device: string;
  version: string;
  window: Tally | null;
  buckets: Map<number, Tally>;
}

const byName = (a: Pending, b: Pending) => (a.device === b.device ? (a.version < b.version ? -1 : 1) : a.device < b.device ? -1 : 1);

/**
 * Drift per device and version: over the range from `since` (ISO 8601; '' for all), per bucket of
 * time, the share of answers flagged for each review reason, the mean domainScore and the class
 * mix; and over the last `windowSeconds` before `now`, whether the out-of-domain share passes the
 * alert level. `askedBucket` (seconds) overrides the bucket width chosen from the range.
 *
 * @example
 * const drift = await driftStats(env.DB, '', driftAlertSettings(env), undefined, Date.now());
 * drift.alerting; // ['lab-2']
 */
export async function driftStats(db: Database, since: string, alert: DriftAlertSettings, askedBucket: number | undefined, now: number) {
  const first = since || (await db.prepare('SELECT MIN(created_at) AS first FROM predictions').first<{ first: string | null }>())?.first;
  const bucket = bucketSeconds(first ? Math.max(0, (now - Date.parse(first)) / 1000) : 0, askedBucket);
  const windowStart = new Date(now - alert.windowSeconds * 1000).toISOString();
  const [series, window] = (await db.batch([
    db.prepare(figuresSql(true)).bind(since, bucket),
    db.prepare(figuresSql(false)).bind(windowStart),
  ])) as { results: Row[] }[];

  const pending = new Map<string, Pending>();
  const entryOf = ({ device, version }: Row) => {
    const key = JSON.stringify([device, version]);
    const entry = pending.get(key) ?? { device, version, window: null, buckets: new Map() };
    pending.set(key, entry);
    return entry;
  };
  for (const row of series.results) {
    const { buckets } = entryOf(row);
    buckets.set(row.bucket, (buckets.get(row.bucket) ?? new Tally()).add(row));
  }
  for (const row of window.results) {
    const entry = entryOf(row);
    entry.window = (entry.window ?? new Tally()).add(row);
  }

  const devices: DriftEntry[] = [...pending.values()].sort(byName).map(({ device, version, window, buckets }) => {
    const figures = window?.figures() ?? null;
    return {
      device,
      version,
      alert: figures !== null && figures.answers >= alert.minAnswers && figures.reasons.out_of_domain > alert.level,
      window: figures,
      series: [...buckets].sort(([a], [b]) => a - b).map(([start, tally]) => ({ start: new Date(start * 1000).toISOString(), ...tally.figures() })),
    };
  });
  return {
    bucketSeconds: bucket,
    alert: { ...alert, windowStart },
    alerting: [...new Set(devices.filter((d) => d.alert).map((d) => d.device))],
    devices,
  };
}
