import { buildApp } from './app.ts';

export default buildApp() satisfies ExportedHandler<Env>;
