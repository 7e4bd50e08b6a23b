// wrangler and vitest-pool-workers hand a compiled module to a static `.wasm` import.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
