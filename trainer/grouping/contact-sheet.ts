import path from 'node:path';
import sharp from 'sharp';
import { html, raw, type Raw } from '../report/escape.ts';
import type { ApartPair } from './content.ts';

interface SheetData {
  root: string;
  method: string;
  classes: string[];
  /** Dataset-relative path and class index of every image, in grouping order. */
  images: { path: string; label: number }[];
  groups: number[];
  closestApart: ApartPair[];
}

/** Members shown per group: enough to see it is one cell under several turns. */
const SHOWN = 6;

async function thumbnail(root: string, file: string): Promise<string> {
  const jpeg = await sharp(path.join(root, file)).rotate().resize(96, 72, { fit: 'inside' }).jpeg({ quality: 70 }).toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

/**
 * A self-contained HTML page to check a content grouping by eye: for every group a few of its
 * members, spread over the group, and per class the closest pairs of images that were left in
 * different groups. A group that mixes two cells, or a pair below that is one cell, shows at a
 * glance.
 */
export async function renderContactSheet(d: SheetData): Promise<string> {
  const members = new Map<number, number[]>();
  d.groups.forEach((g, i) => (members.get(g) ?? members.set(g, []).get(g)!).push(i));
  const img = async (i: number) => html`<img src="${await thumbnail(d.root, d.images[i].path)}" alt="${d.images[i].path}" title="${d.images[i].path}">`;
  const sections: Raw[] = [];
  for (const [label, name] of d.classes.entries()) {
    const groups = [...members.entries()].filter(([, m]) => d.images[m[0]].label === label).sort((a, b) => b[1].length - a[1].length);
    const rows: Raw[] = [];
    for (const [g, m] of groups) {
      const picks = Array.from({ length: Math.min(SHOWN, m.length) }, (_, k) => m[Math.floor((k * m.length) / Math.min(SHOWN, m.length))]);
      rows.push(html`<div class="group"><span class="label">group ${g}, ${m.length} images</span>${await Promise.all(picks.map(img))}</div>`);
    }
    const pairs: Raw[] = [];
    for (const p of d.closestApart.filter((p) => d.images[p.a].label === label)) {
      pairs.push(html`<div class="pair"><span class="label">groups ${d.groups[p.a]} and ${d.groups[p.b]}, distance ${p.distance.toFixed(3)}</span>${await img(p.a)}${await img(p.b)}</div>`);
    }
    sections.push(html`<section><h2>${name}: ${groups.length} groups</h2>${rows}
<h3>Closest pairs left in different groups</h3><p>If a pair shows one cell, its groups should have been merged (raise <code>--group-threshold</code>).</p>${pairs.length ? pairs : html`<p>None: one group.</p>`}</section>`);
  }
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Groups of ${d.root}</title>
<style>${raw('body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}.group,.pair{display:flex;flex-wrap:wrap;align-items:center;gap:4px;margin:6px 0;padding:4px;border-bottom:1px solid #ddd}.label{width:13rem;font-size:12px;color:#555}img{width:96px;height:72px;object-fit:contain;background:#000}.pair{background:#fff7e6}')}</style></head>
<body><h1>Source groups of <code>${d.root}</code></h1><p>Method: ${d.method}. Every row should show one cell, turned, flipped, shifted or zoomed.</p>${sections}</body></html>
`.toString();
}
