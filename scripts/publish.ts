import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { readModelFolder } from '../trainer/export/model-folder.ts';
import { d1Registry, RECORD_SQL, type ManifestRegistry } from '../worker/models/registry.ts';
import { publishVersion, type ModelBucket } from './lib/publish-core.ts';
import { BUCKET_NAME, remoteD1, requireCloudflareCredentials, runWrangler, sqlString } from './lib/wrangler-cli.ts';

/** The remote bucket through `wrangler r2 object`, one command per call. */
function remoteBucket(): ModelBucket {
  const scratch = mkdtempSync(join(tmpdir(), 'cellsense-publish-'));
  let n = 0;
  const object = (key: string) => `${BUCKET_NAME}/${key}`;
  const fetchObject = (key: string): Uint8Array | null => {
    const file = join(scratch, `get-${n++}`);
    try {
      runWrangler(['r2', 'object', 'get', object(key), '--remote', '--file', file], { quiet: true });
      return new Uint8Array(readFileSync(file));
    } catch (error) {
      if (/not found|does not exist|404/i.test((error as Error).message)) return null;
      throw error;
    }
  };
  return {
    head: async (key) => fetchObject(key),
    get: async (key) => {
      const bytes = fetchObject(key);
      return bytes && { arrayBuffer: async () => bytes.slice().buffer };
    },
    put: async (key, value, options) => {
      const file = join(scratch, `put-${n++}`);
      writeFileSync(file, value);
      const type = options?.httpMetadata?.contentType;
      runWrangler(['r2', 'object', 'put', object(key), '--remote', '--file', file, ...(type ? ['--content-type', type] : [])], { quiet: true });
    },
  };
}

/** The remote D1 through `wrangler d1 execute`, which binds no parameters: the values are quoted into the SQL. */
function remoteRegistry(): ManifestRegistry {
  return {
    recorded: async (version) =>
      remoteD1<{ manifest_sha256: string }>(`SELECT manifest_sha256 FROM model_versions WHERE version = ${sqlString(version)}`).results[0]?.manifest_sha256 ?? null,
    record: async (version, sha256) => {
      const values = [version, sha256, new Date().toISOString()].map(sqlString);
      remoteD1(RECORD_SQL.replace(/\?(\d)/g, (_, n: string) => values[Number(n) - 1]));
    },
  };
}

const program = new Command('publish')
  .description('Upload a trained model version (OUT/<version>/) to the model bucket, manifest last')
  .requiredOption('--model <dir>', 'a version folder written by `npm run train`')
  .option('--local', 'the local bucket used by `wrangler dev`, `npm start` and the tests')
  .option('--remote', 'the Cloudflare bucket (needs CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID)')
  .action(async (options: { model: string; local?: boolean; remote?: boolean }) => {
    if (options.local === options.remote) throw new Error('say where to publish: exactly one of --local or --remote');
    if (options.remote) requireCloudflareCredentials('publishing with --remote');
    const version = await readModelFolder(options.model);
    const log = (path: string, bytes: number) => console.error(`  ${path} (${bytes} bytes) uploaded, sha256 verified`);
    const done = options.local
      ? await (await import('./lib/local-bindings.ts')).withLocalBindings((env) => publishVersion({ bucket: env.MODELS, registry: d1Registry(env.DB) }, version, { onFile: log }))
      : await publishVersion({ bucket: remoteBucket(), registry: remoteRegistry() }, version, { onFile: log });
    const what = { uploaded: 'published', recorded: 'recorded the manifest (already in the bucket) of', restored: 'restored the files and manifest of' }[done];
    console.log(`${what} ${version.manifest.name} ${version.manifest.version} in the ${options.local ? 'local' : 'remote'} bucket and D1`);
  });

program.parseAsync().catch((error: Error) => {
  console.error(`publish: ${error.message}`);
  process.exit(1);
});
