import { html, raw, type Raw } from '../escape.ts';

/** Light-to-dark blue, readable in greyscale print too. */
const STOPS: [number, number, number][] = [
  [248, 250, 252],
  [191, 219, 254],
  [96, 165, 250],
  [37, 99, 235],
  [30, 58, 138],
];

/** Colour for a share in [0, 1] along the scale. */
function scaleColor(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const c = STOPS[i].map((v, k) => Math.round(v + (STOPS[i + 1][k] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

const LABEL_MAX = 16;
const short = (s: string) => (s.length > LABEL_MAX ? `${s.slice(0, LABEL_MAX - 1)}…` : s);

/**
 * Confusion matrix as an SVG heat map: rows are true classes, columns predictions. Cells
 * show the count and are shaded by the share of the true class's images (the row), so a
 * small class's errors are as visible as a large one's.
 */
export function heatMap(classes: string[], confusion: number[][], title: string): Raw {
  const n = classes.length;
  const cell = n <= 5 ? 100 : n <= 8 ? 70 : n <= 12 ? 52 : 38;
  const longest = Math.max(...classes.map((c) => short(c).length));
  // Bold 12.5px capitals run about 8.6px a character.
  const labelW = Math.min(160, Math.max(60, longest * 8.6 + 14));
  // Column labels are turned when they would not fit across a cell.
  const rotate = longest * 8.6 > cell - 8;
  const headH = rotate ? Math.min(130, longest * 5.6 + 24) : 34;
  const left = labelW + 26;
  const top = headH + 28;
  const gridW = n * cell;
  const legendW = Math.max(90, Math.min(gridW - 150, 220));
  const width = Math.max(left + gridW + 64, left + legendW + 160);
  const legendY = top + gridW + 28;
  const height = legendY + 48;
  const rowTotals = confusion.map((row) => row.reduce((a, b) => a + b, 0));

  const colLabels = classes.map((c, j) => {
    const x = left + j * cell + cell / 2;
    const y = top - 10;
    return rotate
      ? html`<text class="cm-label" transform="translate(${x + 4},${y}) rotate(-40)" text-anchor="start"><title>${c}</title>${short(c)}</text>`
      : html`<text class="cm-label" x="${x}" y="${y}" text-anchor="middle"><title>${c}</title>${short(c)}</text>`;
  });
  const rows = confusion.map((row, i) => {
    const y = top + i * cell;
    const label = html`<text class="cm-label" x="${left - 10}" y="${y + cell / 2 + 4}" text-anchor="end"><title>${classes[i]}</title>${short(classes[i])}</text>`;
    const cells = row.map((v, j) => {
      const share = rowTotals[i] ? v / rowTotals[i] : 0;
      const x = left + j * cell;
      const ink = share > 0.45 ? '#ffffff' : '#0f172a';
      const pct = rowTotals[i] ? `${Math.round(100 * share)}%` : '';
      return html`<g><title>true ${classes[i]}, predicted ${classes[j]}: ${v} of ${rowTotals[i]}</title><rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${scaleColor(share)}" stroke="#ffffff" stroke-width="2"${raw(i === j ? ' class="diag"' : '')}/>
<text class="cm-count" x="${x + cell / 2}" y="${y + cell / 2 + (cell >= 52 ? 2 : 5)}" text-anchor="middle" fill="${ink}">${v}</text>${
        cell >= 52 ? html`<text class="cm-share" x="${x + cell / 2}" y="${y + cell / 2 + 19}" text-anchor="middle" fill="${ink}">${pct}</text>` : raw('')
      }</g>`;
    });
    const total = html`<text class="cm-total" x="${left + gridW + 10}" y="${y + cell / 2 + 4}">n = ${rowTotals[i]}</text>`;
    return html`${label}${cells}${total}`;
  });

  const stops = STOPS.map((_, k) => {
    const t = k / (STOPS.length - 1);
    return html`<stop offset="${t}" stop-color="${scaleColor(t)}"/>`;
  });
  return html`<svg class="heatmap" viewBox="0 0 ${width} ${height}" width="${width}" role="img" aria-label="${title}">
<title>${title}</title>
<defs><linearGradient id="cm-scale" x1="0" x2="1" y1="0" y2="0">${stops}</linearGradient></defs>
<text class="axis-label" x="${left + gridW / 2}" y="14" text-anchor="middle">Predicted class</text>
<text class="axis-label" transform="translate(14,${top + gridW / 2}) rotate(-90)" text-anchor="middle">True class</text>
${colLabels}
${rows}
<g transform="translate(${left},${legendY})">
<rect width="${legendW}" height="10" fill="url(#cm-scale)" stroke="#cbd5e1" stroke-width="0.5"/>
<text class="tick" x="0" y="26">0%</text>
<text class="tick" x="${legendW / 2}" y="26" text-anchor="middle">50%</text>
<text class="tick" x="${legendW}" y="26" text-anchor="end">100%</text>
<text class="tick" x="${legendW + 12}" y="9">share of the true class</text>
</g>
</svg>`;
}
