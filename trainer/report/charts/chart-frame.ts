import { linearScale, type Scale } from './chart-scale.ts';
import { html, type Raw } from '../escape.ts';

interface FrameAxis {
  domain: [number, number];
  ticks: number[];
  format: (v: number) => string;
  label: string;
}

interface FrameOptions {
  /** Read by screen readers and shown on hover. */
  title: string;
  width: number;
  height: number;
  margin: { left: number; right: number; top: number; bottom: number };
  x: FrameAxis;
  y: FrameAxis;
}

interface Frame {
  xs: Scale;
  ys: Scale;
  /** The plot area in SVG units. */
  left: number;
  right: number;
  top: number;
  bottom: number;
  /** The whole chart: gridlines, axes and labels under `content`. */
  svg(content: (Raw | Raw[])[]): Raw;
}

/** SVG coordinates to two decimals: enough for any screen, short enough to keep the file small. */
export const coord = (v: number) => Number(v.toFixed(2)).toString();

/**
 * Axes, gridlines on both axes, tick labels and axis titles of a chart whose x axis is a
 * continuous quantity (confidence, coverage), unlike the epoch axis of `lineChart`.
 */
export function chartFrame(o: FrameOptions): Frame {
  const left = o.margin.left;
  const right = o.width - o.margin.right;
  const top = o.margin.top;
  const bottom = o.height - o.margin.bottom;
  const xs = linearScale(o.x.domain[0], o.x.domain[1], left, right);
  const ys = linearScale(o.y.domain[0], o.y.domain[1], bottom, top);
  const yGrid = o.y.ticks.map(
    (t) => html`<line class="grid" x1="${left}" x2="${right}" y1="${coord(ys(t))}" y2="${coord(ys(t))}"/>
<text class="tick" x="${left - 8}" y="${coord(ys(t) + 4)}" text-anchor="end">${o.y.format(t)}</text>`,
  );
  const xGrid = o.x.ticks.map(
    (t) => html`<line class="grid" x1="${coord(xs(t))}" x2="${coord(xs(t))}" y1="${top}" y2="${bottom}"/>
<line class="axis" x1="${coord(xs(t))}" x2="${coord(xs(t))}" y1="${bottom}" y2="${bottom + 5}"/>
<text class="tick" x="${coord(xs(t))}" y="${bottom + 19}" text-anchor="middle">${o.x.format(t)}</text>`,
  );
  const svg = (content: (Raw | Raw[])[]) => html`<svg class="chart" viewBox="0 0 ${o.width} ${o.height}" role="img" aria-label="${o.title}">
<title>${o.title}</title>
${yGrid}
${xGrid}
<line class="axis" x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}"/>
<line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${bottom}"/>
${content.flat()}
<text class="axis-label" x="${(left + right) / 2}" y="${o.height - 10}" text-anchor="middle">${o.x.label}</text>
<text class="axis-label" transform="translate(16,${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${o.y.label}</text>
</svg>`;
  return { xs, ys, left, right, top, bottom, svg };
}

/** A legend entry: a swatch (line, dashed line, box or dot) and its label, placed at (x, y). */
export function legendItem(x: number, y: number, kind: 'line' | 'dashed' | 'box' | 'dot', color: string, label: string, opacity = 1): Raw {
  const swatch =
    kind === 'box'
      ? html`<rect x="0" y="-6" width="14" height="12" fill="${color}" fill-opacity="${opacity}" stroke="${color}" stroke-width="0.8"/>`
      : kind === 'dot'
        ? html`<circle cx="7" cy="0" r="5" fill="#ffffff" stroke="${color}" stroke-width="2.2"/>`
        : html`<line x1="0" x2="22" y1="0" y2="0" stroke="${color}" stroke-width="2.2"${kind === 'dashed' ? html` stroke-dasharray="5 4"` : html``}/>`;
  const textX = kind === 'line' || kind === 'dashed' ? 28 : 20;
  return html`<g transform="translate(${coord(x)},${coord(y)})">${swatch}<text class="legend" x="${textX}" y="4">${label}</text></g>`;
}
