import { applyD1Migrations, env } from 'cloudflare:test';

// Each test file starts with an empty D1 database; give it the real schema from migrations/.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
