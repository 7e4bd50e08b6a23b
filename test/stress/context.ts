// What vitest.config.ts hands to the suite in workerd.
declare module 'vitest' {
  interface ProvidedContext {
    stress: { seed: number; loadSeconds: number };
  }
}
export {};
