import type { Reporter } from 'vitest/node';

type UserConsoleLog = Parameters<NonNullable<Reporter['onUserConsoleLog']>>[0];

/** The lines the suite prints for its four sections. */
const SUMMARY = /^(fuzz|load|faults|auth): /;

/**
 * Repeats the suite's summary lines after vitest's own summary, so the run ends with them:
 * `fuzz: ...`, `load: ...`, `faults: ...`, `auth: ...`.
 */
export default class SummaryReporter implements Reporter {
  private lines = new Map<string, string>();

  onUserConsoleLog(log: UserConsoleLog): void {
    for (const line of log.content.split('\n')) {
      const match = SUMMARY.exec(line.trim());
      if (match) this.lines.set(match[1], line.trim());
    }
  }

  onTestRunEnd(): void {
    const order = ['fuzz', 'load', 'faults', 'auth'];
    const missing = order.filter((name) => !this.lines.has(name));
    process.stdout.write('\n' + order.filter((name) => this.lines.has(name)).map((name) => this.lines.get(name)).join('\n') + '\n');
    if (missing.length) process.stdout.write(`(no summary from: ${missing.join(', ')})\n`);
  }
}
