// @ts-check
// Numbers as the training report writes them (trainer/report/format.ts), so a figure reads the
// same in both: fractions as percentages with one decimal, scores such as F1 with three, sizes in
// binary units. A missing value is a dash. test/worker/http/console-format.node.test.ts holds them equal.

/** @param {number | null | undefined} x */
const missing = (x) => x === null || x === undefined || !Number.isFinite(x);

/** 0.8571 -> "85.7%". @param {number | null | undefined} x @param {number} [digits] */
export const percent = (x, digits = 1) => (missing(x) ? '–' : `${(100 * /** @type {number} */ (x)).toFixed(digits)}%`);

/** Scores in [0, 1] such as F1: 0.91234 -> "0.912". @param {number | null | undefined} x */
export const score = (x) => (missing(x) ? '–' : /** @type {number} */ (x).toFixed(3));

/** Counts with thousands separators whatever the browser's locale: 12345 -> "12,345". @param {number} n */
export const count = (n) => Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** 71234 -> "69.6 KB". @param {number} n */
export const bytes = (n) => (n < 1024 ? `${count(n)} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / (1024 * 1024)).toFixed(2)} MB`);

/** Milliseconds: one decimal under 10 ms. @param {number | null | undefined} x */
export const ms = (x) => (missing(x) ? '–' : `${/** @type {number} */ (x) < 10 ? /** @type {number} */ (x).toFixed(1) : Math.round(/** @type {number} */ (x))} ms`);
