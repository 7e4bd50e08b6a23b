/** Axis arithmetic for the SVG charts: linear scales and round-numbered ticks. */

export interface Scale {
  (value: number): number;
  domain: [number, number];
}

/** Maps [d0, d1] onto [r0, r1]; a zero-width domain maps everything to the middle. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): Scale {
  const span = d1 - d0;
  const f = ((v: number) => (span === 0 ? (r0 + r1) / 2 : r0 + ((v - d0) / span) * (r1 - r0))) as Scale;
  f.domain = [d0, d1];
  return f;
}

/** A step of 1, 2 or 5 times a power of ten, near `span / target`. */
function niceStep(span: number, target: number): number {
  if (!(span > 0)) return 1;
  const raw = span / Math.max(1, target);
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * power;
}

/**
 * Ticks on round numbers covering [min, max], about `target` of them; the domain is
 * widened to the outer ticks so lines never leave the plot.
 */
export function niceTicks(min: number, max: number, target = 5): { ticks: number[]; domain: [number, number] } {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { ticks: [0, 1], domain: [0, 1] };
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceStep(max - min, target);
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { ticks, domain: [lo, hi] };
}

/** Integer ticks for epochs: at most ~10, always including the first epoch. */
export function epochTicks(first: number, last: number): number[] {
  const step = Math.max(1, Math.ceil(niceStep(last - first, 8)));
  const ticks: number[] = [];
  for (let e = first; e <= last; e += step) ticks.push(e);
  return ticks;
}
