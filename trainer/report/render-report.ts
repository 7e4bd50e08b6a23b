import { escapeHtml } from './escape.ts';
import { calibrationSection, doubtSection } from './sections-calibration.ts';
import { crossValidationSection } from './sections-cross-validation.ts';
import { datasetSection, footerSection, mistakesSection } from './sections-data.ts';
import { confusionSection, perClassSection, quantizationSection } from './sections-metrics.ts';
import { curvesSection, headerSection, summarySection } from './sections-overview.ts';
import { STYLES } from './styles.ts';
import type { ReportData } from './types.ts';
import { validateReportData } from './validate-report.ts';

export { ReportDataError } from './validate-report.ts';

/**
 * The training report as one self-contained HTML page: inline CSS, inline SVG charts,
 * thumbnails as data: URIs and no scripts, so it opens offline and can be archived or
 * e-mailed as is. Every piece of user text (class names, paths, the command) is escaped.
 * Throws a `ReportDataError` when `data` is inconsistent (e.g. a confusion matrix of the wrong size).
 *
 * @example
 * await writeFile('report.html', renderReport(data));
 */
export function renderReport(data: ReportData): string {
  validateReportData(data);
  const m = data.manifest;
  const body = [
    headerSection(data),
    summarySection(data),
    curvesSection(data),
    confusionSection(data),
    perClassSection(data),
    quantizationSection(data),
    calibrationSection(data),
    doubtSection(data),
    crossValidationSection(data),
    datasetSection(data),
    mistakesSection(data),
    footerSection(data),
  ]
    .filter((section) => section.markup !== '')
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="generator" content="cellsense trainer">
<title>${escapeHtml(`Training report: ${m.name} ${m.version}`)}</title>
<style>${STYLES}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}
