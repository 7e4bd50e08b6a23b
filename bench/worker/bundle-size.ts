import { runWrangler } from '../../scripts/lib/wrangler-cli.ts';

interface BundleSize {
  totalKiB: number;
  gzipKiB: number;
}

/**
 * Builds the Worker as `wrangler deploy` would, without uploading, and reads the sizes
 * wrangler reports (upload total and gzip, which is what Cloudflare's limit counts).
 *
 * @example
 * const { gzipKiB } = bundleSize(); // 700.1
 */
export function bundleSize(outdir = '.wrangler/deploy-dry-run'): BundleSize {
  const out = runWrangler(['deploy', '--dry-run', '--outdir', outdir], { quiet: true });
  const match = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(out);
  if (!match) throw new Error(`could not find the bundle size in wrangler's output:\n${out}`);
  return { totalKiB: Number(match[1]), gzipKiB: Number(match[2]) };
}
