// Entry of a training worker thread: worker threads start without the main thread's TypeScript
// loader (tsx or vitest), so the replica's TypeScript is loaded through tsx's API.
import { tsImport } from 'tsx/esm/api';

await tsImport('./replica-worker.ts', import.meta.url);
