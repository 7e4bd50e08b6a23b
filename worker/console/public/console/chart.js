// @ts-check
import { h } from './dom.js';
// Small SVG charts over time, built with DOM calls (no markup strings) like the rest of the page.
// Marks only: titles, legends and the time axis are HTML around them, so text keeps its size
// when a chart shrinks to a phone's width.

const NS = 'http://www.w3.org/2000/svg';
const W = 600;
const H = 96;
const PAD = 6;

/**
 * @typedef {{ from: number, to: number, bucketMs: number }} TimeAxis ms since the epoch; buckets start at multiples of bucketMs
 * @typedef {{ t: number, v: number, title: string }} Point t: a bucket's start
 * @typedef {{ label: string, colour: string, points: Point[] }} Line
 * @typedef {{ t: number, parts: number[], title: string }} Stack t: a bucket's start; parts: counts in the order of the legend
 */

/**
 * @param {string} tag
 * @param {Record<string, string | number>} [attrs]
 * @param {...(SVGElement | null)} children
 */
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children) if (child) el.append(child);
  return el;
}

/** A tooltip: the `title` child SVG shows on hover. @param {string} text */
const tip = (text) => {
  const title = svg('title');
  title.textContent = text;
  return title;
};

/** @param {TimeAxis} axis @param {number} t */
const xOf = (axis, t) => ((t - axis.from) / Math.max(1, axis.to - axis.from)) * W;
/** @param {number} v @param {number} max */
const yOf = (v, max) => H - PAD - (Math.min(v, max) / max) * (H - 2 * PAD);

/** @param {string} label */
const frame = (label) => svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label }, svg('rect', { class: 'plot', x: 0, y: 0, width: W, height: H }));

/**
 * Lines over time on a scale from 0 to `max`, broken where a bucket has no answers, with a dashed
 * reference line (the alert level, the domain's edge). Each point's title says its figures.
 * @param {{ axis: TimeAxis, max: number, lines: Line[], reference?: { value: number, label: string }, label: string }} spec
 */
export function lineChart({ axis, max, lines, reference, label }) {
  const chart = frame(label);
  if (reference) chart.append(svg('line', { class: 'reference', x1: 0, x2: W, y1: yOf(reference.value, max), y2: yOf(reference.value, max) }, tip(reference.label)));
  // Later lines are drawn on top with smaller dots, so equal values still show every line.
  lines.forEach((line, index) => {
    const runs = /** @type {Point[][]} */ ([]);
    for (const point of line.points) {
      const run = runs.at(-1);
      if (run && point.t - run[run.length - 1].t === axis.bucketMs) run.push(point);
      else runs.push([point]);
    }
    const at = (/** @type {Point} */ p) => `${xOf(axis, p.t + axis.bucketMs / 2).toFixed(1)},${yOf(p.v, max).toFixed(1)}`;
    for (const run of runs) if (run.length > 1) chart.append(svg('polyline', { class: 'series', points: run.map(at).join(' '), stroke: line.colour }));
    for (const p of line.points) {
      const [cx, cy] = at(p).split(',');
      chart.append(svg('circle', { cx, cy, r: Math.max(2.5, 5 - 1.5 * index), fill: line.colour }, tip(`${line.label}: ${p.title}`)));
    }
  });
  return chart;
}

/**
 * Stacked bars, one per bucket, each as tall as the chart: the parts as shares of the bucket.
 * @param {{ axis: TimeAxis, colours: string[], stacks: Stack[], label: string }} spec
 */
export function stackedBars({ axis, colours, stacks, label }) {
  const chart = frame(label);
  const width = Math.max(2, xOf(axis, axis.from + axis.bucketMs) - 1);
  for (const stack of stacks) {
    const total = stack.parts.reduce((a, b) => a + b, 0);
    let y = H;
    const bar = svg('g', {}, tip(stack.title));
    stack.parts.forEach((n, i) => {
      const height = total ? (n / total) * H : 0;
      y -= height;
      if (height > 0) bar.append(svg('rect', { x: xOf(axis, stack.t).toFixed(1), y: y.toFixed(1), width: width.toFixed(1), height: height.toFixed(1), fill: colours[i % colours.length] }));
    });
    chart.append(bar);
  }
  return chart;
}

/**
 * The key to a chart's colours, as HTML.
 * @param {{ label: string, colour: string, dashed?: boolean }[]} items
 */
export function legend(items) {
  return h('ul', { class: 'legend' }, items.map(({ label, colour, dashed }) => {
    const swatch = h('span', { class: `swatch${dashed ? ' dashed' : ''}`, 'aria-hidden': 'true' });
    // CSSOM, not a style attribute: allowed under `style-src 'self'`.
    if (dashed) swatch.style.borderColor = colour;
    else swatch.style.backgroundColor = colour;
    return h('li', {}, swatch, label);
  }));
}
