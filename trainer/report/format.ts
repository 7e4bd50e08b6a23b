/** Number formats shared by every part of the report, so one figure reads the same everywhere. */

/** 0.8571 -> "85.7%". */
export function percent(fraction: number, digits = 1): string {
  if (!Number.isFinite(fraction)) return 'n/a';
  return `${(100 * fraction).toFixed(digits)}%`;
}

/** A change in percentage points with its sign: -0.012 -> "−1.2 pts", 0 -> "±0.0 pts". */
export function points(delta: number): string {
  if (!Number.isFinite(delta)) return 'n/a';
  const v = (100 * delta).toFixed(1);
  if (Number(v) === 0) return '±0.0 pts';
  return delta > 0 ? `+${v} pts` : `−${v.slice(1)} pts`;
}

/** Scores in [0, 1] such as F1: 0.91234 -> "0.912". */
export function score(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : 'n/a';
}

/** A change of a score with its sign: 0.004 -> "+0.004". */
export function scoreDelta(delta: number): string {
  if (!Number.isFinite(delta)) return 'n/a';
  const v = delta.toFixed(3);
  if (Number(v) === 0) return '±0.000';
  return delta > 0 ? `+${v}` : `−${v.slice(1)}`;
}

/** Counts with thousands separators, independent of the machine's locale: 12345 -> "12,345". */
export function count(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 71234 -> "69.6 KB" (binary units, as file managers show them). */
export function bytes(n: number): string {
  if (n < 1024) return `${count(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(2)} MB`;
}

/** 754000 -> "12 min 34 s"; 4200 -> "4.2 s". */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'n/a';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return h ? `${h} h ${m} min` : `${m} min ${s} s`;
}

/** An ISO timestamp as "2025-03-14 09:26 UTC"; anything unparsable is shown as given. */
export function timestamp(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A mean over folds with its spread, both as percentages: {mean: 0.9234, std: 0.0141} -> "92.3% ± 1.4 pts". */
export function percentSpread(s: { mean: number; std: number }): string {
  if (!Number.isFinite(s.mean) || !Number.isFinite(s.std)) return 'n/a';
  return `${percent(s.mean)} ${plusMinusPoints(s.std)}`;
}

/** A standard deviation of fractions in percentage points: 0.0141 -> "± 1.4 pts". */
export function plusMinusPoints(std: number): string {
  return Number.isFinite(std) ? `± ${(100 * std).toFixed(1)} pts` : '± n/a';
}

/** A score's mean with its spread: {mean: 0.9213, std: 0.0152} -> "0.921 ± 0.015". */
export function scoreSpread(s: { mean: number; std: number }): string {
  if (!Number.isFinite(s.mean) || !Number.isFinite(s.std)) return 'n/a';
  return `${score(s.mean)} ± ${score(s.std)}`;
}

/**
 * A probability threshold with enough digits to tell it from 1: 0.62417 -> "0.624",
 * 0.99983 -> "0.9998", 0 -> "0". Rounding 0.99983 to "1.000" would name a threshold no cell passes.
 */
export function threshold(t: number): string {
  if (!Number.isFinite(t)) return 'n/a';
  if (t === 0 || t === 1) return String(t);
  const digits = Math.min(6, Math.max(3, Math.ceil(-Math.log10(1 - t))));
  return t.toFixed(digits);
}

/** Which epoch's weights a model holds, and why: "best 14" or "kept the last (25)". */
export function keptEpoch(t: { bestEpoch: number; keepEpoch?: 'best' | 'last' }): string {
  return t.keepEpoch === 'last' ? `kept the last (${t.bestEpoch})` : `best ${t.bestEpoch}`;
}
