/**
 * `mlpgrad/simd.wasm` and `mlpgrad/scalar.wasm`: the kernels as a WebAssembly.Module, where the runtime
 * or bundler imports .wasm files as compiled modules (workerd and wrangler, Deno with `--unstable` wasm
 * imports); pass it to `init(module)`. Elsewhere, fetch the file's URL and pass the Response instead.
 */
declare const kernels: WebAssembly.Module;
export default kernels;
