import { Command } from 'commander';
import { issueToken } from '../worker/devices/tokens.ts';
import { localWorkerUrl } from './lib/local-worker.ts';
import { revokeDevice, tokenRequest, type DeviceStore, type TokenOptions, type TokenRequest, type WorkerFetch } from './lib/token-core.ts';
import { remoteD1, requireCloudflareCredentials, sqlString } from './lib/wrangler-cli.ts';

/** A Worker's API at `url`, or null without one. */
const workerAt = (url: string | null | undefined): WorkerFetch | null => (url ? (path, init) => fetch(`${url.replace(/\/+$/, '')}${path}`, init) : null);

async function local(request: TokenRequest, persistTo?: string): Promise<string | null> {
  const { withLocalBindings } = await import('./lib/local-bindings.ts');
  const devices = await import('../worker/devices/store.ts');
  return withLocalBindings(async (env) => {
    const store: DeviceStore = {
      create: async (name, admin, pins) => (await devices.createDevice(env.DB, name, admin, pins)).token,
      revoke: (name) => devices.revokeDevice(env.DB, name),
    };
    if (request.action === 'create') return store.create(request.name, request.admin, request.pins);
    const via = await revokeDevice(store, request.name, workerAt(localWorkerUrl(persistTo)));
    console.error(via === 'worker' ? 'revoked through the running Worker: refused from its next request' : 'no local Worker is running: revoked in the local D1');
    return null;
  }, persistTo);
}

/** Remote D1 through `wrangler d1 execute`; a token is made and hashed here, only the hash is sent. */
function remoteStore(): DeviceStore {
  return {
    create: async (name, admin, pins) => {
      const { tokenId, token, tokenHash } = await issueToken();
      const values = [tokenId, name, tokenHash].map(sqlString).join(', ');
      remoteD1(`INSERT INTO devices (token_id, name, token_hash, admin, pins, created_at) VALUES (${values}, ${admin ? 1 : 0}, ${sqlString(JSON.stringify(pins))}, ${sqlString(new Date().toISOString())})`);
      return token;
    },
    revoke: async (name) => {
      const { changes } = remoteD1(`UPDATE devices SET revoked_at = ${sqlString(new Date().toISOString())} WHERE name = ${sqlString(name)} COLLATE NOCASE AND revoked_at IS NULL`);
      if (!changes) throw new Error(`device "${name}" has no active token`);
    },
  };
}

async function remote(request: TokenRequest): Promise<string | null> {
  requireCloudflareCredentials('--remote');
  const store = remoteStore();
  if (request.action === 'create') return store.create(request.name, request.admin, request.pins);
  const via = await revokeDevice(store, request.name, workerAt(process.env.CELLSENSE_URL));
  console.error(
    via === 'worker'
      ? 'revoked through the deployed Worker: refused at once by the isolate that handled it, by the others within TOKEN_CACHE_SECONDS'
      : 'revoked in the remote D1; set CELLSENSE_URL to revoke through the deployed Worker (isolates that verified the token trust it for up to TOKEN_CACHE_SECONDS)',
  );
  return null;
}

const program = new Command('token')
  .description('Create a device token (printed alone on the last line; only its hash is stored) or revoke one')
  .option('--device <name>', 'create a token for this device')
  .option('--admin', 'the token may also provision devices, change the routing, read /v1/stats and pin any version')
  .option('--pin <versions>', 'versions the device may choose with the X-Model-Version header, comma-separated ("*": any)')
  .option('--revoke <name>', "revoke this device's active token (through the running Worker when there is one, so it is refused at once)")
  .option('--local', 'the local D1 database used by `wrangler dev`')
  .option('--remote', 'the Cloudflare D1 database (needs CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID; a revocation also goes through CELLSENSE_URL when set)')
  .option('--persist-to <dir>', 'with --local: the state folder, as `wrangler dev --persist-to` (default .wrangler/state)')
  .action(async (options: TokenOptions & { persistTo?: string }) => {
    const request = tokenRequest(options);
    const token = request.where === 'local' ? await local(request, options.persistTo) : await remote(request);
    if (token) {
      console.error(`${request.admin ? 'admin' : 'device'} token for "${request.name}" (shown once; only its hash is stored):`);
      console.log(token);
    } else {
      console.log(`revoked the token of "${request.name}"`);
    }
  });

program.parseAsync().catch((error: Error) => {
  console.error(`token: ${error.message}`);
  process.exit(1);
});
