import { Command } from 'commander';
import { defaultModelDir } from '../trainer/export/model-folder.ts';
import { freePort, prepareLocal, sampleImage, waitForHealth } from './lib/local-setup.ts';
import { recordLocalWorker } from './lib/local-worker.ts';
import { spawnWranglerDev } from './lib/wrangler-cli.ts';

const START_DEVICE = 'npm-start';
// The lab console (/console/) needs an admin token; a fresh one each start, like the device's.
const START_ADMIN = 'npm-start-admin';

const program = new Command('start')
  .description('Publish the bundled default model to the local bucket if absent, start the Worker locally, print a token, a curl line and the lab console URL with an admin token')
  .option('--port <n>', 'port for wrangler dev (default: first free from 8787)')
  .action(async (options: { port?: string }) => {
    const dir = defaultModelDir();
    const local = await prepareLocal(dir, START_DEVICE, START_ADMIN);
    console.error(local.published ? `published the bundled model ${local.version} (${dir}) to the local bucket` : `model ${local.version} is already in the local bucket`);

    const port = options.port ? Number(options.port) : await freePort(8787);
    const url = `http://127.0.0.1:${port}`;
    // Pin the bundled version, whatever else the local bucket holds.
    const child = spawnWranglerDev(['--ip', '127.0.0.1', '--port', String(port), '--var', `MODEL_VERSION:${local.version}`], 'inherit');
    let exited = false;
    child.on('exit', (code) => {
      exited = true;
      process.exit(code ?? 1);
    });
    await waitForHealth(url, 120_000, () => exited);
    recordLocalWorker(url);
    console.log('');
    console.log(`cellsense Worker running at ${url} (model ${local.name} ${local.version}; Ctrl-C stops it)`);
    console.log(`device token (${START_DEVICE}): ${local.token}`);
    console.log('classify a bundled image:');
    console.log(`curl -s -H "Authorization: Bearer ${local.token}" -H "Content-Type: image/jpeg" --data-binary @${sampleImage()} ${url}/v1/classify`);
    console.log(`lab console: ${url}/console/`);
    console.log(`admin token (${START_ADMIN}), to sign in to the console: ${local.adminToken}`);
  });

program.parseAsync().catch((error: Error) => {
  console.error(`start: ${error.message}`);
  process.exit(1);
});
