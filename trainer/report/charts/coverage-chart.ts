import { chartFrame, coord, legendItem } from './chart-frame.ts';
import { niceTicks } from './chart-scale.ts';
import { html, type Raw } from '../escape.ts';
import * as f from '../format.ts';
import type { CalibrationReport, CoveragePoint } from '../types.ts';

const W = 720;
const H = 400;
const M = { left: 64, right: 24, top: 56, bottom: 50 };
const CURVE = '#0f766e';
const TARGET = '#b45309';
/** Below this coverage the curve rests on a handful of cells and would stretch the y axis to 0. */
const SCALE_FROM_COVERAGE = 0.1;

/** Points closer than half an SVG unit to the last one kept add bytes, not shape. */
function thin(points: [number, number][]): [number, number][] {
  const kept: [number, number][] = [];
  points.forEach((p, i) => {
    const last = kept[kept.length - 1];
    if (!last || i === points.length - 1 || Math.abs(p[0] - last[0]) >= 0.5 || Math.abs(p[1] - last[1]) >= 0.5) kept.push(p);
  });
  return kept;
}

/** The y range: the curve from 10% coverage on, the target and the chosen point, on round ticks. */
function coverageYRange(c: CalibrationReport): { ticks: number[]; domain: [number, number] } {
  const seen = c.curve.filter((p) => p.coverage >= SCALE_FROM_COVERAGE).map((p) => p.accuracy);
  const lowest = Math.min(c.targetAccuracy, c.accuracyAboveThreshold, ...seen);
  const { ticks, domain } = niceTicks(Math.max(0, lowest - 0.01), 1, 5);
  const kept = ticks.filter((t) => t <= 1 + 1e-9);
  return { ticks: kept, domain: [domain[0], Math.min(1, domain[1])] };
}

/**
 * Accuracy of the cells the model would answer alone against their share of all cells, one
 * point per possible threshold, with the target region (enough accuracy, enough coverage)
 * shaded and the chosen threshold marked.
 */
export function coverageChart(c: CalibrationReport): Raw {
  const y = coverageYRange(c);
  const frame = chartFrame({
    title: c.threshold === 1 && c.coverage === 0
      ? 'Accuracy-coverage curve: no threshold reaches the target accuracy, so every answer is flagged for review'
      : `Accuracy-coverage curve: at threshold ${f.threshold(c.threshold)}, ${f.percent(c.coverage)} of cells are classified with ${f.percent(c.accuracyAboveThreshold)} accuracy`,
    width: W, height: H, margin: M,
    x: { domain: [0, 1], ticks: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1], format: (v) => f.percent(v, 0), label: 'Coverage: share of cells classified without review' },
    y: { domain: y.domain, ticks: y.ticks, format: (v) => f.percent(v, y.ticks.some((t) => Math.round(t * 100) !== t * 100) ? 1 : 0), label: 'Accuracy of those cells' },
  });
  const { xs, ys, left, right, top, bottom } = frame;
  const targetY = Math.max(top, ys(c.targetAccuracy));
  const minX = xs(c.minCoverage);
  const points = thin(c.curve.map((p: CoveragePoint) => [xs(p.coverage), ys(p.accuracy)]));
  const path = points.map(([px, py], i) => `${i ? 'L' : 'M'}${coord(px)},${coord(py)}`).join('');
  const cx = xs(c.coverage);
  const cy = ys(c.accuracyAboveThreshold);
  const flagged = 1 - c.coverage;
  // Labels sit low, near the x axis: the curve plots the accuracy of the surest cells, so it runs high.
  const labelLeft = cx > (left + right) / 2;
  const minRoom = minX - left > 190;
  // With threshold 1 nothing is classified without review: there is no point on the curve to mark.
  const mark = c.threshold === 1 && c.coverage === 0
    ? html`<text class="best-label halo" x="${left + 6}" y="${bottom - 30}">threshold 1: every answer flagged for review</text>`
    : html`<g class="threshold-mark"><title>Threshold ${f.threshold(c.threshold)}: ${f.percent(c.coverage)} of cells classified, ${f.percent(c.accuracyAboveThreshold)} of them correctly; ${f.percent(flagged)} flagged for review</title>
<line x1="${coord(cx)}" x2="${coord(cx)}" y1="${coord(cy)}" y2="${bottom}" stroke="#0f172a" stroke-width="1.2" stroke-dasharray="2 3"/>
<circle cx="${coord(cx)}" cy="${coord(cy)}" r="6.5" fill="#ffffff" stroke="#0f172a" stroke-width="2.4"/>
<text class="best-label halo" x="${coord(labelLeft ? cx - 10 : cx + 10)}" y="${bottom - 30}" text-anchor="${labelLeft ? 'end' : 'start'}">threshold ${f.threshold(c.threshold)}: ${f.percent(c.coverage)} covered, ${f.percent(c.accuracyAboveThreshold)} right</text></g>`;
  return frame.svg([
    html`<defs><clipPath id="coverage-plot"><rect x="${left}" y="${top - 4}" width="${right - left}" height="${bottom - top + 4}"/></clipPath></defs>
<rect class="target-region" x="${coord(minX)}" y="${coord(top)}" width="${coord(right - minX)}" height="${coord(targetY - top)}" fill="#dcfce7" fill-opacity="0.8"><title>Target region: at least ${f.percent(c.minCoverage)} of cells classified, at least ${f.percent(c.targetAccuracy)} of them correctly</title></rect>
<line x1="${left}" x2="${right}" y1="${coord(targetY)}" y2="${coord(targetY)}" stroke="${TARGET}" stroke-width="1.4" stroke-dasharray="6 4"/>
<line x1="${coord(minX)}" x2="${coord(minX)}" y1="${top}" y2="${bottom}" stroke="${TARGET}" stroke-width="1.4" stroke-dasharray="6 4"/>
<path class="coverage-curve" d="${path}" fill="none" stroke="${CURVE}" stroke-width="2.4" stroke-linejoin="round" clip-path="url(#coverage-plot)"/>
<text class="target-label halo" x="${left + 6}" y="${coord(targetY - 6)}">target accuracy ${f.percent(c.targetAccuracy)}</text>
<text class="target-label halo" x="${coord(minRoom ? minX - 6 : minX + 6)}" y="${bottom - 8}" text-anchor="${minRoom ? 'end' : 'start'}">minimum coverage ${f.percent(c.minCoverage)}</text>
${mark}`,
    legendItem(left, 22, 'line', CURVE, 'Cells at or above a threshold'),
    legendItem(left + 250, 22, 'dot', '#0f172a', 'Chosen threshold'),
    legendItem(left + 400, 22, 'box', '#86efac', 'Target region', 0.5),
  ]);
}
