import { freePort } from './lib/local-setup.ts';
import { recordLocalWorker } from './lib/local-worker.ts';
import { applyLocalMigrations, spawnWranglerDev } from './lib/wrangler-cli.ts';

/** The value of `--name value` or `--name=value` among `args`. */
function flag(args: string[], name: string): string | undefined {
  const at = args.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  if (at === -1) return undefined;
  return args[at].includes('=') ? args[at].slice(name.length + 1) : args[at + 1];
}

// `npm run dev -- --port N`: the local D1 schema first, then `wrangler dev` with the given flags,
// on a port chosen here when none is given, so `npm run token -- --revoke` can find it.
const args = process.argv.slice(2);
applyLocalMigrations(flag(args, '--persist-to'));
const port = flag(args, '--port') ?? String(await freePort(8787));
if (!flag(args, '--port')) args.push('--port', port);
const ip = flag(args, '--ip');
const host = !ip || ['0.0.0.0', '::', '*'].includes(ip) ? 'localhost' : ip.includes(':') ? `[${ip}]` : ip;
const child = spawnWranglerDev(args, 'inherit');
recordLocalWorker(`http://${host}:${port}`, flag(args, '--persist-to'));
child.on('exit', (code) => process.exit(code ?? 1));
