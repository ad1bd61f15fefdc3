// Bundles the package's entries with esbuild (after `tsc`, which type-checks and writes dist/src's .d.ts):
//
//   dist/mlpgrad.js          src/index.ts        ESM, conditions browser/import/default: no `node:` import
//   dist/mlpgrad.scalar.js   src/wasm-scalar.generated.ts  the scalar build, which dist/mlpgrad.js imports
//                            only where SIMD is missing (a chunk of its own in the user's bundle too)
//   dist/mlpgrad.relaxed.js  src/wasm-relaxed.generated.ts  the relaxed-SIMD build, imported likewise only
//                            where the runtime validates relaxed SIMD
//   dist/pool-worker.js      src/pool-worker.ts  the pool's Web Worker script, beside it
//   dist/mlpgrad.node.js     src/index.node.ts   ESM for the `node` condition (pool on worker_threads)
//   dist/mlpgrad.cjs         src/index.node.ts   CommonJS for `require` (Node)
//   dist/pool-worker.node.js src/pool-worker.node.ts  the pool's worker_threads script
//   dist/cjs/*.d.cts         dist/src/*.d.ts     the declarations again, as CommonJS (for `require` under node16)
//
// then the workerd entry (scripts/build-workerd.mjs). The browser bundles are built for platform browser
// with no externals, so a `node:` import that creeps into them fails the build instead of a user's bundler.
import { build } from "esbuild";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
const at = (path) => new URL(path, root).pathname;
const common = { bundle: true, target: "es2022", sourcemap: true, logLevel: "warning" };

// The browser bundle imports the scalar and relaxed builds from beside it instead of carrying them.
const scalarBeside = {
  name: "scalar-beside",
  setup(builder) {
    builder.onResolve({ filter: /(^|\/)wasm-scalar\.generated\.js$/ }, () => ({ path: "./mlpgrad.scalar.js", external: true }));
    builder.onResolve({ filter: /(^|\/)wasm-relaxed\.generated\.js$/ }, () => ({ path: "./mlpgrad.relaxed.js", external: true }));
  },
};

// The node bundles embed the kernels uncompressed (build/embed-raw, written by embed-wasm.mjs): no
// unpacking at start-up, where a browser app's download size does not matter.
const rawKernels = {
  name: "raw-kernels",
  setup(builder) {
    builder.onResolve({ filter: /(^|\/)wasm(-scalar|-relaxed)?\.generated\.js$/ }, (args) => ({ path: at(`build/embed-raw/${args.path.split("/").pop()}`) }));
  },
};

// The ESM node bundle embeds only the SIMD build (uncompressed) and imports the scalar and relaxed ones
// from beside it, as the browser bundle does: Node runs them only when asked ({ simd: false }, or the
// relaxed-SIMD flag), and 70 KB fewer to parse is 0.5 ms less at import (bench/cold.mjs). The CommonJS
// bundle, which cannot import an ES module synchronously and may be bundled again, keeps all three.
const simdRawOthersBeside = {
  name: "simd-raw-others-beside",
  setup(builder) {
    scalarBeside.setup(builder);
    builder.onResolve({ filter: /(^|\/)wasm\.generated\.js$/ }, () => ({ path: at("build/embed-raw/wasm.generated.js") }));
  },
};

// The node bundles are minified but for their names (whitespace and syntax: V8 parses the whole bundle at
// import, about 10% less of it; names stay for stack traces and the source map maps back to src/).
const compact = { minifyWhitespace: true, minifySyntax: true };

await Promise.all([
  build({ ...common, entryPoints: [at("src/index.ts")], outfile: at("dist/mlpgrad.js"), format: "esm", platform: "browser", plugins: [scalarBeside] }),
  build({ ...common, entryPoints: [at("src/wasm-scalar.generated.ts")], outfile: at("dist/mlpgrad.scalar.js"), format: "esm", platform: "neutral" }),
  build({ ...common, entryPoints: [at("src/wasm-relaxed.generated.ts")], outfile: at("dist/mlpgrad.relaxed.js"), format: "esm", platform: "neutral" }),
  build({ ...common, entryPoints: [at("src/pool-worker.ts")], outfile: at("dist/pool-worker.js"), format: "esm", platform: "browser" }),
  build({ ...common, ...compact, entryPoints: [at("src/index.node.ts")], outfile: at("dist/mlpgrad.node.js"), format: "esm", platform: "node", plugins: [simdRawOthersBeside] }),
  build({
    ...common,
    ...compact,
    entryPoints: [at("src/index.node.ts")],
    outfile: at("dist/mlpgrad.cjs"),
    format: "cjs",
    platform: "node",
    plugins: [rawKernels],
    // pool-node.ts reads import.meta.url only where it exists, else __filename.
    logOverride: { "empty-import-meta": "silent" },
  }),
  build({ ...common, entryPoints: [at("src/pool-worker.node.ts")], outfile: at("dist/pool-worker.node.js"), format: "esm", platform: "node" }),
]);

// CommonJS declarations: the same files as .d.cts, their relative imports pointing at .cjs, so that
// TypeScript under node16/nodenext types `require("mlpgrad")` (and the importers, mlpgrad/bullmq) as
// CommonJS (not "masquerading as ESM"). Subfolders (import/, bullmq/) keep their place.
function writeCjsDeclarations(folder) {
  mkdirSync(at(`dist/cjs/${folder}`), { recursive: true });
  for (const entry of readdirSync(at(`dist/src/${folder}`), { withFileTypes: true })) {
    const name = `${folder}${entry.name}`;
    if (entry.isDirectory()) writeCjsDeclarations(`${name}/`);
    if (!entry.isFile() || !name.endsWith(".d.ts")) continue;
    const text = readFileSync(at(`dist/src/${name}`), "utf8").replace(/(["'])(\.\.?\/[^"']*?)\.js\1/g, "$1$2.cjs$1");
    writeFileSync(at(`dist/cjs/${name.replace(/\.d\.ts$/, ".d.cts")}`), text.replace(/\/\/# sourceMappingURL=.*\n?/, ""));
  }
}
writeCjsDeclarations("");
