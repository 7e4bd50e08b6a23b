import { linearScale, epochTicks, niceTicks } from './chart-scale.ts';
import { html, raw, type Raw } from '../escape.ts';

interface Series {
  label: string;
  color: string;
  /** One value per entry of `LineChartOptions.x`. */
  values: number[];
  dashed?: boolean;
}

interface LineChartOptions {
  title: string;
  /** Epoch numbers along the x axis. */
  x: number[];
  series: Series[];
  yLabel: string;
  formatY: (v: number) => string;
  /** Fixed y range, e.g. [0, 1] for accuracy; the data range otherwise. */
  yRange?: [number, number];
  /** Epoch whose weights were kept: drawn as a marked vertical line. */
  bestEpoch?: number;
  /** The marker's words before the epoch number; default `best epoch`. */
  bestLabel?: string;
}

const W = 520;
const H = 310;
const M = { left: 60, right: 16, top: 44, bottom: 50 };

const fmt = (v: number) => Number(v.toFixed(2)).toString();

/** A self-contained SVG line chart with axes, ticks, gridlines, a legend and the best epoch marked. */
export function lineChart(o: LineChartOptions): Raw {
  if (o.x.length === 0) throw new Error(`chart "${o.title}" has no points to draw`);
  for (const s of o.series) {
    if (s.values.length !== o.x.length) {
      throw new Error(`chart "${o.title}": series "${s.label}" has ${s.values.length} values for ${o.x.length} epochs`);
    }
  }
  const finite = o.series.flatMap((s) => s.values).filter(Number.isFinite);
  const [yMin, yMax] = o.yRange ?? [Math.min(0, ...finite), Math.max(...finite, 0)];
  const { ticks: yTicks, domain: yDomain } = niceTicks(yMin, yMax, 5);
  const first = o.x[0];
  const last = o.x[o.x.length - 1];
  // One epoch still gets an x axis with room around its point.
  const xs = linearScale(first === last ? first - 1 : first, first === last ? last + 1 : last, M.left, W - M.right);
  const ys = linearScale(yDomain[0], yDomain[1], H - M.bottom, M.top);
  const plotBottom = H - M.bottom;

  const grid = yTicks.map(
    (t) => html`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${fmt(ys(t))}" y2="${fmt(ys(t))}"/>
<text class="tick" x="${M.left - 8}" y="${fmt(ys(t) + 4)}" text-anchor="end">${o.formatY(t)}</text>`,
  );
  const xTicks = (first === last ? [first] : epochTicks(first, last)).map(
    (e) => html`<line class="axis" x1="${fmt(xs(e))}" x2="${fmt(xs(e))}" y1="${plotBottom}" y2="${plotBottom + 5}"/>
<text class="tick" x="${fmt(xs(e))}" y="${plotBottom + 19}" text-anchor="middle">${e}</text>`,
  );

  const lines = o.series.map((s) => {
    const pts = o.x.map((e, i) => [xs(e), ys(s.values[i])] as const).filter(([, y]) => Number.isFinite(y));
    const path = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${fmt(x)},${fmt(y)}`).join('');
    const dots = pts.map(([x, y]) => html`<circle cx="${fmt(x)}" cy="${fmt(y)}" r="2.6" fill="${s.color}"/>`);
    return html`<g class="series"><path d="${path}" fill="none" stroke="${s.color}" stroke-width="2.2"${raw(s.dashed ? ' stroke-dasharray="6 4"' : '')} stroke-linejoin="round"/>${dots}</g>`;
  });

  const legend = o.series.map((s, i) => {
    const x = M.left + i * 120;
    return html`<g transform="translate(${x},16)"><line x1="0" x2="22" y1="0" y2="0" stroke="${s.color}" stroke-width="2.6"${raw(s.dashed ? ' stroke-dasharray="6 4"' : '')}/><circle cx="11" cy="0" r="2.6" fill="${s.color}"/><text class="legend" x="30" y="4">${s.label}</text></g>`;
  });

  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${o.title}">
<title>${o.title}</title>
${grid}
<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${plotBottom}" y2="${plotBottom}"/>
<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${plotBottom}"/>
${xTicks}
${bestMarker(o, xs, ys)}
${lines}
${legend}
<text class="axis-label" x="${(M.left + W - M.right) / 2}" y="${H - 10}" text-anchor="middle">Epoch</text>
<text class="axis-label" transform="translate(16,${(M.top + plotBottom) / 2}) rotate(-90)" text-anchor="middle">${o.yLabel}</text>
</svg>`;
}

function bestMarker(o: LineChartOptions, xs: (v: number) => number, ys: (v: number) => number): Raw {
  const i = o.bestEpoch === undefined ? -1 : o.x.indexOf(o.bestEpoch);
  if (i < 0) return raw('');
  const x = xs(o.x[i]);
  // The marked value is the validation series' (the last one), the figure a best epoch is chosen on.
  const val = o.series[o.series.length - 1];
  const y = ys(val.values[i]);
  const anchor = x > W - M.right - 100 ? 'end' : 'start';
  const dx = anchor === 'end' ? -6 : 6;
  return html`<g class="best"><line x1="${fmt(x)}" x2="${fmt(x)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#475569" stroke-width="1.2" stroke-dasharray="3 3"/>
<circle cx="${fmt(x)}" cy="${fmt(y)}" r="6.5" fill="none" stroke="${val.color}" stroke-width="2"/>
<text class="best-label" x="${fmt(x + dx)}" y="${M.top + 12}" text-anchor="${anchor}">${o.bestLabel ?? 'best epoch'} ${o.x[i]}</text></g>`;
}
