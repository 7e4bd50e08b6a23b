// wrangler and vitest-pool-workers hand a compiled module to a static `.wasm` import.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}

// ... and the bytes to a `.jpeg` import (wrangler.toml's Data rule).
declare module '*.jpeg' {
  const bytes: ArrayBuffer;
  export default bytes;
}
