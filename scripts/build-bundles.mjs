// Bundles the package's entries with esbuild (after `tsc`, which type-checks and writes dist/src's .d.ts):
//
//   dist/mlpgrad.js          src/index.ts        ESM, conditions browser/import/default: no `node:` import
//   dist/mlpgrad.scalar.js   src/wasm-scalar.generated.ts  the scalar build, which dist/mlpgrad.js imports
//                            only where SIMD is missing (a chunk of its own in the user's bundle too)
//   dist/mlpgrad.relaxed.js  src/wasm-relaxed.generated.ts  the relaxed-SIMD build, imported likewise only
//                            where the runtime validates relaxed SIMD
//   dist/pool-worker.js      src/pool-worker.ts  the pool's Web Worker script, beside it
//   dist/mlpgrad.node.js     src/index.node.ts   ESM for the `node` condition (pool on worker_threads)
//   dist/mlpgrad.pool.node.js  src/pool-node.ts  the pool's code, which dist/mlpgrad.node.js imports with the
//                            first createMLPPool (pool-lazy.ts)
//   dist/mlpgrad.cjs         src/index.node.ts   CommonJS for `require` (Node)
//   dist/pool-worker.node.js src/pool-worker.node.ts  the pool's worker_threads script
//   dist/cjs/*.d.cts         dist/src/*.d.ts     the declarations again, as CommonJS (for `require` under node16)
//
// then the workerd entry (scripts/build-workerd.mjs). The browser bundles are built for platform browser
// with no externals, so a `node:` import that creeps into them fails the build instead of a user's bundler.
import { build } from "esbuild";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { eagerCompile } from "./eager-compile.mjs";

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

// The ESM node bundle leaves the pool's code (pool.ts, split.ts, pool-node.ts) to dist/mlpgrad.pool.node.js,
// which pool-lazy.ts imports with the first createMLPPool: a process that makes no pool parses 19 KB less
// (0.7 ms of a cold start, docs/cold-start.md). One file, not esbuild's code splitting: splitting moves
// the shared code into a chunk of its own, and loading two modules at import cost more than it saved.
const poolBeside = {
  name: "pool-beside",
  setup(builder) {
    builder.onResolve({ filter: /^\.\/pool-node\.js$/ }, (args) => (args.importer.endsWith("pool-lazy.ts") ? { path: "./mlpgrad.pool.node.js", external: true } : undefined));
  },
};

// Node (18 and later), Deno and Bun all have DecompressionStream, so the ESM node bundle, which unpacks
// only the gzip-compressed scalar and relaxed modules beside it, leaves out inflate.ts (3.5 KB of code,
// 0.1 ms of its import): init() says so if a runtime under the `node` condition lacks it. The CommonJS
// bundle, which may be bundled again for anything, keeps it.
const noInflater = {
  name: "no-inflater",
  setup(builder) {
    builder.onResolve({ filter: /(^|\/)inflate\.js$/ }, () => ({ path: "inflate-stub", namespace: "stub" }));
    builder.onLoad({ filter: /^inflate-stub$/, namespace: "stub" }, () => ({
      contents: `export function gunzip() { throw new Error("this runtime has no DecompressionStream, which mlpgrad's Node entry needs (Node 18 or later, Deno, Bun); use the \\"browser\\" entry, dist/mlpgrad.js, which carries its own inflater"); }`,
      loader: "js",
    }));
  },
};

// What the pool's file takes from dist/mlpgrad.node.js instead of carrying copies (pool-lazy.ts, CORE): the
// modules pool.ts and split.ts import are replaced by one whose bindings install() fills in. Any other
// module of src/ they come to import fails the build, rather than be copied into the pool's file with
// state of its own; so does a name missing here (esbuild: no matching export).
const POOL_CORE = ["badBatchValue", "JACOBIAN_COLUMNS", "jacobianRounds", "jacobianStep", "jacobianTopStep", "jacobianWidth", "describe", "MLPError", "createEngine", "init", "threadsUnavailable", "BATCH_BLOCK", "PLAN_WORDS", "planBlock"];
const POOL_FILES = new Set(["pool-node.ts", "pool.ts", "split.ts"]);
const poolCore = {
  name: "pool-core",
  setup(builder) {
    builder.onResolve({ filter: /^pool-entry$/ }, () => ({ path: "pool-entry", namespace: "pool" }));
    builder.onLoad({ filter: /^pool-entry$/, namespace: "pool" }, () => ({
      contents: `export * from ${JSON.stringify(at("src/pool-node.ts"))};\nexport { install } from "pool-core";`,
      resolveDir: at("src"),
      loader: "js",
    }));
    builder.onResolve({ filter: /^pool-core$/ }, () => ({ path: "pool-core", namespace: "pool" }));
    builder.onLoad({ filter: /^pool-core$/, namespace: "pool" }, () => ({
      contents: [
        `export let ${POOL_CORE.join(", ")};`,
        `export function install(core) {`,
        `  for (const name of ${JSON.stringify(POOL_CORE)}) if (core[name] === undefined) throw new Error("mlpgrad.pool.node.js: the library did not hand over " + name);`,
        `  ({ ${POOL_CORE.join(", ")} } = core);`,
        `}`,
      ].join("\n"),
      loader: "js",
    }));
    builder.onResolve({ filter: /^\.\.?\// }, (args) => {
      const from = args.importer.split("/").pop();
      if (args.namespace === "pool" || !args.importer.startsWith(at("src/"))) return undefined;
      const name = args.path.split("/").pop().replace(/\.js$/, ".ts");
      if (POOL_FILES.has(name)) return undefined;
      if (["init.ts", "errors.ts", "batch.ts", "memory.ts"].includes(name)) return { path: "pool-core", namespace: "pool" };
      return { errors: [{ text: `${from} imports ${args.path}: add it to POOL_CORE (and pool-lazy.ts's CORE) instead of copying it into the pool's file` }] };
    });
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
  build({ ...common, ...compact, entryPoints: [at("src/index.node.ts")], outfile: at("dist/mlpgrad.node.js"), format: "esm", platform: "node", plugins: [simdRawOthersBeside, poolBeside, noInflater] }),
  build({ ...common, ...compact, entryPoints: ["pool-entry"], outfile: at("dist/mlpgrad.pool.node.js"), format: "esm", platform: "node", plugins: [poolCore] }),
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

// The top-level functions of the node bundles that every cold start runs (import → init() →
// createMLP → the first gradient, as NODE_V8_COVERAGE lists them), compiled by V8 in its one parse at
// import instead of pre-parsed there and parsed again on their first call (scripts/eager-compile.mjs;
// bench/cold.mjs: library total 9.55 → 9.16 ms, docs/cold-start.md). The class methods on the same path
// (the MLP and Engine constructors, gradient, Arena's) cannot be marked. A name that disappears from the
// bundle fails the build; one missing from the list only costs its second parse.
const COLD_START_FUNCTIONS = [
  // init.ts
  "requireWebAssembly", "hasSimd", "hasRelaxedSimd", "decodeBase64", "unpack", "compileEmbedded", "compileBytes", "createEngine", "init", "isOptions", "getEngine", "createMLP",
  // engine.ts, memory.ts, errors.ts
  "checkKernelExports", "alignUp", "planLayout", "backwardHalf", "writePlan", "count",
  // model.ts, activation.ts
  "checkSpec", "checkSizes", "own", "arrayLength", "element", "checkActivations", "isActivationName", "resolve", "make",
  "checkLayer", "checkParameters", "isNumericTypedArray", "snapshot", "copyFast",
  // network.ts
  "isNumberTypedArray",
];
// The CommonJS bundle has the same functions under the same names (a cold start by require(): library
// total 11.01 → 10.77 ms, 21 processes each, load 1.9–2.0).
for (const file of ["dist/mlpgrad.node.js", "dist/mlpgrad.cjs"]) eagerCompile(at(file), COLD_START_FUNCTIONS);

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
