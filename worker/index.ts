import { buildApp } from './app.ts';
import { startWarmUp } from './warm-up.ts';

// At module scope: the backend and codecs are ready before the first request, not during it.
startWarmUp();

export default buildApp() satisfies ExportedHandler<Env>;
