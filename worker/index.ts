import { buildApp } from './app.ts';
import { pruneOnSchedule } from './stats/retention.ts';
import { startWarmUp } from './inference/warm-up.ts';

// At module scope: the backend and codecs are ready before the first request, not during it.
startWarmUp();

const app = buildApp();

export default {
  fetch: app.fetch,
  // wrangler.toml's cron: the outcome retention run.
  scheduled: async (controller, env) => {
    await pruneOnSchedule(env, controller.scheduledTime);
  },
} satisfies ExportedHandler<Env>;
