import { applyLocalMigrations, spawnWranglerDev } from './wrangler-cli.ts';

// `npm run dev -- --port N`: the local D1 schema first, then `wrangler dev` with the given flags.
applyLocalMigrations();
const child = spawnWranglerDev(process.argv.slice(2), 'inherit');
child.on('exit', (code) => process.exit(code ?? 1));
