import { Command } from 'commander';
import type { RoutingChange } from '../worker/rollout/routing-store.ts';
import { describeRouting, httpClient, localClient, parseSplit, RouteError, type RoutingClient } from './lib/route-client.ts';

interface RouteOptions {
  set?: string;
  shadow?: string;
  salt?: string;
  sticky?: boolean;
  rollback?: boolean;
  show?: boolean;
  url?: string;
  token?: string;
  local?: boolean;
  remote?: boolean;
  persistTo?: string;
  json?: boolean;
  verbose?: boolean;
}

const REMOTE_HELP =
  '--remote changes the routing through the deployed Worker\'s admin API: set CELLSENSE_URL (e.g. https://cellsense.<account>.workers.dev) ' +
  'and CELLSENSE_TOKEN (an admin token, from `npm run token -- --device NAME --admin --remote`), or pass --url and --token.';

/** Where the routing is read and written, from the flags; missing credentials fail here, before any request. */
function clientFor(options: RouteOptions): RoutingClient {
  if (options.local && options.remote) throw new Error('give only one of --local or --remote');
  if (!options.local && !options.remote && !options.url) {
    throw new Error('say where the routing lives: --local (the state `npm run dev` serves), --remote (the deployed Worker) or --url URL');
  }
  const token = options.token ?? process.env.CELLSENSE_TOKEN;
  if (options.remote) {
    const url = options.url ?? process.env.CELLSENSE_URL;
    if (!url || !token) throw new Error(`${REMOTE_HELP} Missing: ${[!url && 'the URL', !token && 'the admin token'].filter(Boolean).join(' and ')}.`);
    return httpClient(url, token);
  }
  if (options.url) {
    if (!token) throw new Error(`--url needs an admin token: pass --token T or set CELLSENSE_TOKEN (make one with \`npm run token -- --device NAME --admin --local\`)`);
    return httpClient(options.url, token);
  }
  return localClient(options.persistTo);
}

async function change(client: RoutingClient, options: RouteOptions): Promise<RoutingChange> {
  const shadow = options.shadow === undefined ? undefined : options.shadow === 'none' ? null : options.shadow;
  let split: Record<string, number>;
  let keptShadow: string | null = null;
  if (options.set) {
    split = parseSplit(options.set);
  } else {
    // --shadow (or --salt, --no-sticky) alone: keep the split in force.
    const { routing } = await client.show();
    if (!routing) throw new Error('no routing is in force yet; give the split with --set v1=90,v2=10');
    split = routing.split;
    keptShadow = routing.shadow;
  }
  return { split, shadow: shadow === undefined ? (options.set ? null : keptShadow) : shadow, sticky: options.sticky, salt: options.salt };
}

const program = new Command('route')
  .description('Show or change which model versions serve, with what weight, and the shadow version; roll a change back')
  .option('--set <split>', 'versions and integer percentages summing to 100, e.g. v1=90,v2=10')
  .option('--shadow <version>', 'also run this version after each response, recording only ("none" removes it)')
  .option('--salt <salt>', 'salt of the sticky device hash; a new one reshuffles every device')
  .option('--no-sticky', 'draw the version per request instead of keeping each device on one')
  .option('--rollback', 'restore the configuration in force before the current one')
  .option('--show', 'print the configuration in force and the history of changes (the default)')
  .option('--url <url>', 'a running Worker, e.g. http://127.0.0.1:8787 from `npm run dev` (needs --token)')
  .option('--token <token>', 'admin token for --url/--remote (default: $CELLSENSE_TOKEN)')
  .option('--local', 'the local state `npm run dev` serves, written directly (or through --url)')
  .option('--remote', 'the deployed Worker, through its admin API (needs CELLSENSE_URL and CELLSENSE_TOKEN, or --url and --token)')
  .option('--persist-to <dir>', 'with --local: the state folder, as `wrangler dev --persist-to` (default .wrangler/state)')
  .option('--json', 'print JSON instead of lines')
  .option('--verbose', 'print stack traces of errors')
  .action(async (options: RouteOptions) => {
    const changing = Boolean(options.set || options.shadow !== undefined || options.salt || options.sticky === false);
    if ([changing, options.rollback, options.show].filter(Boolean).length > 1) throw new Error('give one of --set/--shadow, --rollback or --show');
    const client = clientFor(options);
    if (options.rollback || changing) {
      const result = options.rollback ? await client.rollback() : await client.set(await change(client, options));
      if (options.json) return console.log(JSON.stringify(result, null, 2));
      console.log(`${options.rollback ? 'rolled back to' : 'now in force'}: ${describeRouting(result.routing)}`);
      console.log(`replaced:      ${result.previous ? describeRouting(result.previous) : 'none (requests went to the default version)'}`);
      return;
    }
    const state = await client.show();
    if (options.json) return console.log(JSON.stringify(state, null, 2));
    console.log(state.routing ? `in force: ${describeRouting(state.routing)}` : 'no routing set: every request goes to the default version (MODEL_VERSION or the newest published)');
    if (state.history.length > 1) {
      console.log('history (newest first):');
      for (const config of state.history) console.log(`  ${describeRouting(config)}`);
    }
  });

program.parseAsync().catch((error: Error) => {
  const where = error instanceof RouteError && error.status ? ` (${error.status} ${error.code})` : '';
  console.error(`route: ${error.message}${where}`);
  if (process.argv.includes('--verbose')) console.error(error.stack);
  process.exit(1);
});
