/** The report's whole stylesheet, inlined so the file opens anywhere without a network. */
export const STYLES = `
:root {
  --ink: #0f172a; --muted: #475569; --faint: #64748b; --line: #e2e8f0; --panel: #ffffff;
  --bg: #f5f7fa; --accent: #2563eb; --train: #2563eb; --val: #ea580c; --good: #047857; --warn: #b45309;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-variant-numeric: tabular-nums;
}
main { max-width: 1120px; margin: 0 auto; padding: 32px 28px 48px; }
h1 { font-size: 28px; line-height: 1.2; margin: 4px 0 6px; letter-spacing: -0.01em; }
h2 { font-size: 19px; margin: 0 0 4px; letter-spacing: -0.005em; }
h3 { font-size: 15px; margin: 22px 0 8px; color: var(--muted); font-weight: 600; }
p { margin: 8px 0; }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f1f5f9;
  padding: 1px 5px; border-radius: 4px; overflow-wrap: anywhere; }
.eyebrow { text-transform: uppercase; letter-spacing: 0.08em; font-size: 12px; font-weight: 600; color: var(--accent); }
.version { color: var(--muted); font-weight: 500; }
.sub { color: var(--muted); margin: 0 0 18px; }
header.report-head { padding-bottom: 20px; border-bottom: 1px solid var(--line); margin-bottom: 24px; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 10px 24px; margin: 0; }
.facts div { min-width: 0; }
.facts dt { font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--faint); }
.facts dd { margin: 2px 0 0; font-weight: 600; overflow-wrap: anywhere; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 22px 24px;
  margin: 0 0 20px; box-shadow: 0 1px 2px rgba(15, 23, 42, 0.04); break-inside: avoid; }
.lead { color: var(--muted); margin: 2px 0 16px; max-width: 78ch; }
.lead.after { margin: 12px 0 0; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 14px; margin: 14px 0 16px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; background: #fbfcfe; }
.card .label { font-size: 13px; color: var(--muted); }
.card .value { font-size: 32px; font-weight: 700; line-height: 1.15; margin: 4px 0; letter-spacing: -0.02em; }
.card .detail { font-size: 13px; color: var(--faint); }
.cards.headline { grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); margin-bottom: 0; }
.card.honest { border-color: #bfdbfe; background: #f5f9ff; }
.card .spread { font-size: 16px; font-weight: 600; color: var(--muted); letter-spacing: 0; white-space: nowrap; }
.note { border-left: 4px solid var(--accent); background: #eff6ff; padding: 10px 14px; border-radius: 0 6px 6px 0;
  margin: 12px 0 0; }
.note p { margin: 4px 0; }
.note.ok { border-left-color: var(--good); background: #ecfdf5; }
.warning { border-left: 4px solid #b91c1c; background: #fef2f2; padding: 10px 14px; border-radius: 0 6px 6px 0; margin: 12px 0; }
.warning p { margin: 4px 0; }
.warning strong { color: #b91c1c; }
.verdict { font-size: 16px; font-weight: 600; margin: 4px 0 8px; max-width: 78ch; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
a { color: var(--accent); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 18px; }
figure { margin: 0; }
figure.wide { max-width: 860px; margin: 14px 0 0; }
figcaption { font-size: 13px; color: var(--faint); margin-top: 6px; }
svg { font-family: inherit; overflow: visible; }
svg.chart { width: 100%; height: auto; display: block; }
svg.heatmap { max-width: 100%; height: auto; display: block; }
svg .grid { stroke: #eef2f7; stroke-width: 1; }
svg .axis { stroke: #94a3b8; stroke-width: 1; }
svg .tick { font-size: 12px; fill: var(--faint); }
svg .legend { font-size: 13px; fill: var(--ink); }
svg .axis-label { font-size: 13px; fill: var(--muted); font-weight: 600; }
svg .best-label { font-size: 12px; fill: #334155; font-weight: 600; }
svg .halo { paint-order: stroke; stroke: #ffffff; stroke-width: 4px; stroke-linejoin: round; }
svg .chart-heading { font-size: 14px; font-weight: 700; fill: var(--ink); }
svg .bin-count { font-size: 11px; fill: var(--muted); font-weight: 600; }
svg .bin-count.none { fill: #cbd5e1; font-weight: 400; }
svg .target-label { font-size: 12px; fill: var(--warn); font-weight: 600; }
svg .cm-label { font-size: 12.5px; fill: var(--ink); font-weight: 600; }
svg .cm-count { font-size: 18px; font-weight: 700; }
svg .cm-share { font-size: 11.5px; opacity: 0.85; }
svg .cm-total { font-size: 12px; fill: var(--faint); }
svg rect.diag { stroke: #0f172a; stroke-width: 1.5; }
.split { display: grid; grid-template-columns: minmax(0, auto) minmax(240px, 1fr); gap: 28px; align-items: start; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 7px 10px; text-align: right; border-bottom: 1px solid var(--line); }
th { font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--faint); font-weight: 600; }
th.group { text-align: center; border-bottom: 2px solid var(--line); }
th:first-child, td:first-child { text-align: left; }
td.name { font-weight: 600; overflow-wrap: break-word; }
td.q, th.q { background: #f8fafc; }
tr.best-row td { font-weight: 700; background: #f0f9ff; }
tr.total td { font-weight: 700; border-top: 2px solid var(--line); border-bottom: none; }
td.left, th.left { text-align: left; }
.delta-neg { color: var(--warn); font-weight: 600; }
.delta-pos { color: var(--good); font-weight: 600; }
.bar { display: inline-block; height: 8px; background: #93c5fd; border-radius: 4px; vertical-align: middle; margin-right: 8px; }
.table-wrap { overflow-x: auto; }
.empty { color: var(--good); font-weight: 600; }
.mistakes { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 14px; }
.mistake { border: 1px solid var(--line); border-radius: 8px; padding: 10px; background: #fbfcfe; }
.mistake img { display: block; width: 100%; height: 128px; object-fit: contain; background: #e2e8f0; border-radius: 5px; }
.mistake dl { margin: 8px 0 0; display: grid; grid-template-columns: 68px minmax(0, 1fr); gap: 2px 8px; font-size: 13px; }
.mistake dt { color: var(--faint); font-size: 12px; padding-top: 1px; }
.mistake dd { margin: 0; font-weight: 600; overflow-wrap: break-word; }
.mistake .wrong { color: #b91c1c; }
.mistake .path { font-size: 11.5px; color: var(--faint); margin-top: 6px; overflow-wrap: anywhere; }
details { margin-top: 14px; }
ul.confusions { margin: 6px 0 12px; padding-left: 20px; }
ul.confusions li { margin: 3px 0; }
summary { cursor: pointer; color: var(--accent); font-weight: 600; }
footer { color: var(--faint); font-size: 13px; padding: 8px 4px; }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; }
footer dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 720px) { main { padding: 18px 12px; } .split { grid-template-columns: 1fr; } .charts { grid-template-columns: 1fr; } }
@media print {
  body { background: #fff; font-size: 12px; }
  main { max-width: none; padding: 0; }
  section { box-shadow: none; border-color: #cbd5e1; page-break-inside: avoid; }
  .charts { grid-template-columns: 1fr 1fr; }
  .split { grid-template-columns: 1fr; }
  details { display: none; }
}
`;
