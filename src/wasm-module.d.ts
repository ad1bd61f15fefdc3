// A .wasm import is a compiled WebAssembly.Module in workerd and under wrangler (index.workerd.ts).
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
