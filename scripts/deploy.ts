import { Command } from 'commander';
import { bundleSize } from '../bench/worker/bundle-size.ts';
import { requireCloudflareCredentials, runWrangler } from './lib/wrangler-cli.ts';

const LIMIT_KIB = 3 * 1024;

const program = new Command('deploy')
  .description('Build the Worker bundle and deploy it to Cloudflare (or only build and measure it with --dry-run)')
  .option('--dry-run', 'build the bundle and print its size; needs no account')
  .action((options: { dryRun?: boolean }) => {
    if (!options.dryRun) requireCloudflareCredentials('deploy');
    const size = bundleSize();
    const verdict = size.gzipKiB < LIMIT_KIB ? `under the ${LIMIT_KIB / 1024} MiB gzip limit` : `OVER the ${LIMIT_KIB / 1024} MiB gzip limit`;
    console.log(`bundle: ${size.totalKiB.toFixed(1)} KiB, gzip ${size.gzipKiB.toFixed(1)} KiB (${verdict}); written to .wrangler/deploy-dry-run`);
    if (size.gzipKiB >= LIMIT_KIB) process.exit(1);
    if (options.dryRun) return;
    runWrangler(['d1', 'migrations', 'apply', 'DB', '--remote']);
    runWrangler(['deploy']);
  });

try {
  program.parse();
} catch (error) {
  console.error(`deploy: ${(error as Error).message}`);
  process.exit(1);
}
