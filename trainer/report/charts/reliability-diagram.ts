import { chartFrame, coord, legendItem } from './chart-frame.ts';
import { html, type Raw } from '../escape.ts';
import * as f from '../format.ts';
import type { ReliabilityBin } from '../types.ts';

interface ReliabilityOptions {
  /** Shown above the plot, e.g. "Before: the model's own probabilities". */
  heading: string;
  ece: number;
  /** Bar colour. */
  color: string;
}

const W = 520;
const H = 390;
const M = { left: 60, right: 16, top: 92, bottom: 50 };
const GAP = '#dc2626';
const TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];

/** Cell counts in the narrow row above the bars: 1234 -> "1.2k", so four digits fit a bin. */
const shortCount = (n: number) => (n < 1000 ? String(n) : n < 9950 ? `${(n / 1000).toFixed(1)}k` : `${Math.round(n / 1000)}k`);

/** What a bin holds, in words: the hover text and the table say the same. */
function binText(b: ReliabilityBin): string {
  const range = `${f.percent(b.lower, 1)}–${f.percent(b.upper, 1)}`;
  if (!b.count) return `Confidence ${range}: no cells`;
  return `Confidence ${range}: ${f.count(b.count)} ${b.count === 1 ? 'cell' : 'cells'}, mean confidence ${f.percent(b.confidence)}, ${f.percent(b.accuracy)} correct`;
}

/**
 * Reliability diagram (Guo et al. 2017) of one set of probabilities: per equal-width bin of top
 * probability, a bar as high as the share of its cells classified correctly, the gap to the
 * bin's mean confidence shaded, and the diagonal a perfectly calibrated model would follow.
 * The cells per bin are printed above the plot, since a bin of three cells proves little.
 */
export function reliabilityDiagram(bins: ReliabilityBin[], o: ReliabilityOptions): Raw {
  const pct = (v: number) => f.percent(v, 0);
  const frame = chartFrame({
    title: `Reliability diagram, ${o.heading}: accuracy against confidence in ${bins.length} bins, expected calibration error ${f.score(o.ece)}`,
    width: W, height: H, margin: M,
    x: { domain: [0, 1], ticks: TICKS, format: pct, label: 'Confidence (top probability)' },
    y: { domain: [0, 1], ticks: TICKS, format: pct, label: 'Accuracy' },
  });
  const { xs, ys } = frame;
  const countY = M.top - 12;
  const columns = bins.map((b) => {
    const x0 = xs(b.lower) + 1;
    const width = Math.max(1, xs(b.upper) - xs(b.lower) - 2);
    const mid = coord((xs(b.lower) + xs(b.upper)) / 2);
    const label = html`<text class="bin-count${b.count ? '' : ' none'}" x="${mid}" y="${countY}" text-anchor="middle">${b.count ? shortCount(b.count) : '–'}</text>`;
    if (!b.count) return html`<g class="bin"><title>${binText(b)}</title>${label}</g>`;
    const yAcc = ys(b.accuracy);
    const yConf = ys(b.confidence);
    const gapTop = Math.min(yAcc, yConf);
    const gapH = Math.abs(yAcc - yConf);
    return html`<g class="bin"><title>${binText(b)}</title>${label}
<rect x="${coord(x0)}" y="${coord(yAcc)}" width="${coord(width)}" height="${coord(frame.bottom - yAcc)}" fill="${o.color}"/>
<rect x="${coord(x0)}" y="${coord(gapTop)}" width="${coord(width)}" height="${coord(gapH)}" fill="${GAP}" fill-opacity="0.22" stroke="${GAP}" stroke-width="1"/></g>`;
  });
  const cells = bins.reduce((s, b) => s + b.count, 0);
  return frame.svg([
    html`<text class="chart-heading" x="${M.left}" y="18">${o.heading}</text>
<text class="chart-heading" x="${W - M.right}" y="18" text-anchor="end">ECE ${f.score(o.ece)}</text>`,
    legendItem(M.left, 44, 'box', o.color, 'Accuracy of the bin'),
    legendItem(M.left + 160, 44, 'box', GAP, 'Gap to its confidence', 0.22),
    legendItem(M.left + 330, 44, 'dashed', '#475569', 'Calibrated'),
    html`<text class="tick" x="${M.left - 8}" y="${countY}" text-anchor="end"><title>${f.count(cells)} cells in all</title>cells</text>`,
    columns,
    html`<line x1="${coord(xs(0))}" y1="${coord(ys(0))}" x2="${coord(xs(1))}" y2="${coord(ys(1))}" stroke="#475569" stroke-width="1.4" stroke-dasharray="5 4"/>`,
  ]);
}
