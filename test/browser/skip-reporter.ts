import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';

/** What one vitest run did with its browser tests: the file `npm test`'s last step reads. */
export interface BrowserRunRecord {
  ran: number;
  skipped: { file: string; name: string }[];
}

/** One record per vitest project, so the runs of `npm test` add up without knowing each other. */
export const browserRecordDir = (root: string) => join(root, 'tmp/browser-tests');

/**
 * Writes, at the end of a run, which tests tagged `browser` ran and which were skipped, for
 * test/browser/summary.ts to name at the end of `npm test`.
 */
export default class BrowserSkipReporter implements Reporter {
  private vitest!: Vitest;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const root = this.vitest.config.root;
    const byProject = new Map<string, BrowserRunRecord>(this.vitest.projects.map((p) => [p.name, { ran: 0, skipped: [] }]));
    for (const module of testModules) {
      const record = byProject.get(module.project.name)!;
      for (const test of module.children.allTests()) {
        if (!test.tags.includes('browser')) continue;
        if (test.result().state === 'skipped') record.skipped.push({ file: module.relativeModuleId, name: test.fullName });
        else record.ran++;
      }
    }
    mkdirSync(browserRecordDir(root), { recursive: true });
    for (const [project, record] of byProject) writeFileSync(join(browserRecordDir(root), `${project}.json`), JSON.stringify(record, null, 2));
  }
}
