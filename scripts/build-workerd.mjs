// Builds the workerd entry: dist/mlpgrad.workerd.js, an ESM bundle of src/index.workerd.ts, and beside
// it dist/mlpgrad.simd.wasm, which the bundle imports as `./mlpgrad.simd.wasm`. workerd (and wrangler,
// which bundles a Worker for upload) turns that import into a compiled WebAssembly.Module, so the bundle
// needs neither the base64 builds nor a compile at run time, both of which it leaves out.
import { build } from "esbuild";
import { copyFileSync, readFileSync, statSync } from "node:fs";
import { basename } from "node:path";

const root = new URL("../", import.meta.url);
const outfile = new URL("dist/mlpgrad.workerd.js", root);

const importedKernels = {
  name: "imported-kernels",
  setup(builder) {
    // Keep .wasm imports as imports, pointing next to the bundle, where the file is copied below.
    builder.onResolve({ filter: /\.wasm$/ }, (args) => ({ path: `./${basename(args.path)}`, external: true }));
    // init.ts's embedded builds: index.workerd.ts always passes a module instead, so they are never read.
    builder.onResolve({ filter: /(^|\/)wasm(-scalar|-relaxed)?\.generated\.js$/ }, () => ({ path: "wasm.generated", namespace: "imported-kernels" }));
    builder.onLoad({ filter: /.*/, namespace: "imported-kernels" }, () => ({
      contents: 'export const SIMD_WASM_GZIP = "", SCALAR_WASM_GZIP = "", RELAXED_WASM_GZIP = "";\n',
      loader: "js",
    }));
  },
};

await build({
  entryPoints: [new URL("src/index.workerd.ts", root).pathname],
  outfile: outfile.pathname,
  bundle: true,
  format: "esm",
  target: "es2022",
  sourcemap: true,
  external: ["node:*"],
  plugins: [importedKernels],
  logLevel: "warning",
});
copyFileSync(new URL("build/mlpgrad.simd.wasm", root), new URL("dist/mlpgrad.simd.wasm", root));

// The point of this entry is a bundle without the payload: fail the build if base64 crept back in.
const text = readFileSync(outfile, "utf8");
const run = text.match(/[A-Za-z0-9+/]{2000,}/);
if (run !== null) throw new Error(`dist/mlpgrad.workerd.js holds a ${run[0].length}-character base64 run: the embedded builds were bundled`);
if (!text.includes('from "./mlpgrad.simd.wasm"')) throw new Error("dist/mlpgrad.workerd.js does not import ./mlpgrad.simd.wasm");
const size = (path) => statSync(new URL(path, root)).size;
console.log(`dist/mlpgrad.workerd.js ${size("dist/mlpgrad.workerd.js")} bytes + dist/mlpgrad.simd.wasm ${size("dist/mlpgrad.simd.wasm")} bytes`);
