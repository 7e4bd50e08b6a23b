import { Command } from 'commander';
import { DEVICE_NAME_PATTERN, issueToken } from '../tokens.ts';
import { remoteD1, requireCloudflareCredentials, sqlString } from './wrangler-cli.ts';

interface TokenOptions {
  device?: string;
  revoke?: string;
  admin?: boolean;
  pin?: string;
  local?: boolean;
  remote?: boolean;
}

/** `--pin v2,v3` as the list stored with the device. */
const pinsOf = (options: TokenOptions) => (options.pin ?? '').split(',').map((p) => p.trim()).filter(Boolean);

async function local(options: TokenOptions): Promise<string | null> {
  const { withLocalBindings } = await import('./local-bindings.ts');
  const { createDevice, revokeDevice } = await import('../devices.ts');
  return withLocalBindings(async (env) => {
    if (options.revoke) {
      await revokeDevice(env.DB, options.revoke);
      return null;
    }
    return (await createDevice(env.DB, options.device!, Boolean(options.admin), pinsOf(options))).token;
  });
}

/** Remote D1 through `wrangler d1 execute`; the token is made and hashed here, only the hash is sent. */
async function remote(options: TokenOptions): Promise<string | null> {
  requireCloudflareCredentials('--remote');
  const now = sqlString(new Date().toISOString());
  if (options.revoke) {
    const { changes } = remoteD1(`UPDATE devices SET revoked_at = ${now} WHERE name = ${sqlString(options.revoke)} COLLATE NOCASE AND revoked_at IS NULL`);
    if (!changes) throw new Error(`device "${options.revoke}" has no active token`);
    return null;
  }
  const { tokenId, token, tokenHash } = await issueToken();
  remoteD1(`INSERT INTO devices (token_id, name, token_hash, admin, pins, created_at) VALUES (${sqlString(tokenId)}, ${sqlString(options.device!)}, ${sqlString(tokenHash)}, ${options.admin ? 1 : 0}, ${sqlString(JSON.stringify(pinsOf(options)))}, ${now})`);
  return token;
}

const program = new Command('token')
  .description('Create a device token (printed alone on the last line; only its hash is stored) or revoke one')
  .option('--device <name>', 'create a token for this device')
  .option('--admin', 'the token may also provision devices, change the routing, read /v1/stats and pin any version')
  .option('--pin <versions>', 'versions the device may choose with the X-Model-Version header, comma-separated ("*": any)')
  .option('--revoke <name>', "revoke this device's active token")
  .option('--local', 'the local D1 database used by `wrangler dev`')
  .option('--remote', 'the Cloudflare D1 database (needs CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID)')
  .action(async (options: TokenOptions) => {
    if (Boolean(options.device) === Boolean(options.revoke)) throw new Error('give exactly one of --device NAME or --revoke NAME');
    if (Boolean(options.local) === Boolean(options.remote)) throw new Error('say which database: exactly one of --local or --remote');
    const name = (options.device ?? options.revoke)!;
    if (!DEVICE_NAME_PATTERN.test(name)) throw new Error(`device name "${name}" must be 1-64 letters, digits, ".", "_" or "-"`);
    const token = options.local ? await local(options) : await remote(options);
    if (token) {
      console.error(`${options.admin ? 'admin' : 'device'} token for "${name}" (shown once; only its hash is stored):`);
      console.log(token);
    } else {
      console.log(`revoked the token of "${name}"`);
    }
  });

program.parseAsync().catch((error: Error) => {
  console.error(`token: ${error.message}`);
  process.exit(1);
});
