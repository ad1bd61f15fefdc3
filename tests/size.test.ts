// Size budgets: the kernels and the bundles users download stay small (a regression here is a bug).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { transform } from "esbuild";

const BUDGET: [string, number][] = [
  ["build/mlpgrad.simd.wasm", 40 * 1024],
  ["build/mlpgrad.scalar.wasm", 20 * 1024],
  ["build/mlpgrad.relaxed.wasm", 40 * 1024],
  // 142 KiB (and workerd 128) since the batch copies run eight rows at a time (src/batch.ts, +2.3 KB);
  // 150 KiB (and workerd 136) since the pool splits the Jacobian and gradientOf (split.ts's Jacobian
  // schedule, batch.ts's steps, pool.ts's runJacobian: +7.6 KB with comments, +2.8 KB minified).
  ["dist/mlpgrad.js", 150 * 1024],
  // unminified JS, comments included; the kernels are imported, not embedded. 124 KiB since pool.ts splits
  // one input across threads (split.ts, ≈ 16 KB with its comments; in workerd the pool runs on one thread);
  // 126 KiB since the backward's halved rows (split.ts's finishHalves and chunks of halves, memory.ts's
  // backwardHalf and scratch vectors: +2.3 KB of code).
  ["dist/mlpgrad.workerd.js", 136 * 1024],
];
const at = (file: string) => new URL(`../../${file}`, import.meta.url);

for (const [file, limit] of BUDGET) {
  test(`${file} stays within ${limit / 1024} KiB`, () => {
    const size = statSync(at(file)).size;
    assert.ok(size <= limit, `${file} is ${size} bytes, over its budget of ${limit}`);
  });
}

// What a browser app ships: the core entry minified, with the SIMD build it embeds (gzip, then base64),
// gzipped. The threads build is derived from the SIMD bytes at run time, not shipped (init.ts); the scalar
// build is a module of its own, dist/mlpgrad.scalar.js, imported only where SIMD is missing, and so is the
// relaxed-SIMD build, dist/mlpgrad.relaxed.js, imported only where relaxed SIMD validates.
const GZIP_BUDGET = 40 * 1000;
const minified = async (file: string): Promise<string> => (await transform(readFileSync(at(file), "utf8"), { minify: true, format: "esm", target: "es2022" })).code;
const packed = (name: string) => gzipSync(readFileSync(at(`build/mlpgrad.${name}.wasm`)), { level: 9 }).toString("base64");

test(`the browser entry, minified with its embedded WebAssembly, is at most ${GZIP_BUDGET / 1000} KB gzipped`, async () => {
  const code = await minified("dist/mlpgrad.js");
  const gzipped = gzipSync(code, { level: 9 }).length;
  assert.ok(gzipped <= GZIP_BUDGET, `dist/mlpgrad.js minified is ${code.length} bytes, ${gzipped} gzipped: over ${GZIP_BUDGET}`);
  assert.ok(code.includes(packed("simd")), "the SIMD build is embedded");
  assert.not.ok(code.includes(packed("scalar")), "the scalar build is not embedded");
  assert.not.ok(code.includes(packed("threads")), "the threads build is not embedded");
  assert.not.ok(code.includes(packed("relaxed")), "the relaxed build is not embedded");
  assert.match(code, /import\(["']\.\/mlpgrad\.scalar\.js["']\)/, "the scalar build is imported from beside the bundle");
  assert.match(code, /import\(["']\.\/mlpgrad\.relaxed\.js["']\)/, "the relaxed build is imported from beside the bundle");
});

test(`with the relaxed build too (what Chromium loads), at most ${(GZIP_BUDGET + 16000) / 1000} KB`, async () => {
  const relaxed = await minified("dist/mlpgrad.relaxed.js");
  assert.ok(relaxed.includes(packed("relaxed")), "dist/mlpgrad.relaxed.js holds the relaxed build");
  const both = gzipSync((await minified("dist/mlpgrad.js")) + relaxed, { level: 9 }).length;
  assert.ok(both <= GZIP_BUDGET + 16000, `the entry and its relaxed build are ${both} bytes gzipped`);
});

test("the node bundles embed the kernels uncompressed (nothing to unpack at start-up); the browser bundle compressed", async () => {
  const raw = (name: string) => readFileSync(at(`build/mlpgrad.${name}.wasm`)).toString("base64");
  for (const file of ["dist/mlpgrad.node.js", "dist/mlpgrad.cjs"]) {
    const text = readFileSync(at(file), "utf8");
    assert.ok(text.includes(raw("simd")), `${file} embeds the SIMD bytes as they are`);
    assert.not.ok(text.includes(packed("simd")), `${file} does not embed the compressed SIMD build`);
  }
  // The ESM node bundle leaves the scalar and relaxed builds to the modules beside it (less to parse at
  // import); the CommonJS one carries them.
  const esm = readFileSync(at("dist/mlpgrad.node.js"), "utf8");
  assert.not.ok(esm.includes(raw("scalar")) || esm.includes(raw("relaxed")), "dist/mlpgrad.node.js does not embed the scalar and relaxed builds");
  assert.match(esm, /import\(["']\.\/mlpgrad\.scalar\.js["']\)/, "dist/mlpgrad.node.js imports the scalar build from beside it");
  assert.match(esm, /import\(["']\.\/mlpgrad\.relaxed\.js["']\)/, "dist/mlpgrad.node.js imports the relaxed build from beside it");
  const cjs = readFileSync(at("dist/mlpgrad.cjs"), "utf8");
  assert.ok(cjs.includes(raw("scalar")) && cjs.includes(raw("relaxed")), "dist/mlpgrad.cjs embeds the scalar and relaxed bytes as they are");
  assert.not.ok(readFileSync(at("dist/mlpgrad.js"), "utf8").includes(raw("simd")), "the browser bundle embeds only the compressed build");
});

test("the node bundles import no node: module at load time (the pool's are imported when it starts)", () => {
  for (const file of ["dist/mlpgrad.node.js", "dist/mlpgrad.cjs", "dist/mlpgrad.pool.node.js"]) {
    const text = readFileSync(at(file), "utf8");
    const eager = [...text.matchAll(/(?:\bfrom\s*|\brequire\(\s*|^import\s*)["'](node:[\w/]+)["']/gm)].map((m) => m[1]);
    assert.equal(eager, [], `${file} imports ${eager.join(", ")} at load time`);
  }
  for (const file of ["dist/mlpgrad.pool.node.js", "dist/mlpgrad.cjs"]) {
    assert.match(readFileSync(at(file), "utf8"), /import\(["']node:worker_threads["']\)/, `${file} imports node:worker_threads on first use`);
  }
});

test("the ESM node bundle leaves the pool's code to dist/mlpgrad.pool.node.js, imported with the first pool, and shares its modules", () => {
  const esm = readFileSync(at("dist/mlpgrad.node.js"), "utf8");
  const pool = readFileSync(at("dist/mlpgrad.pool.node.js"), "utf8");
  assert.match(esm, /import\(["']\.\/mlpgrad\.pool\.node\.js["']\)/, "dist/mlpgrad.node.js imports the pool's file when asked");
  // esbuild's syntax minification writes `class X {}` as `X = class {}`.
  const defines = (text: string, name: string) => new RegExp(`\\b(class ${name}\\b|${name}\\s*=\\s*class\\b|function ${name}\\b)`).test(text);
  for (const name of ["SplitControl", "createPoolOn", "PoolWorker"]) assert.not.ok(defines(esm, name), `dist/mlpgrad.node.js defines ${name}`);
  assert.not.match(esm, /node:worker_threads/, "dist/mlpgrad.node.js names no node: module");
  for (const name of ["SplitControl", "createPoolOn", "MLPPool"]) assert.ok(defines(pool, name), `the pool's file defines ${name}`);
  // No copy of the library's own modules (their state, MLPError's class for instanceof) in the pool's file.
  for (const name of ["MLPError", "createMLP", "MLP", "Engine", "init", "BatchRunner"]) assert.not.ok(defines(pool, name), `the pool's file defines its own ${name}`);
  assert.ok(defines(esm, "MLPError") && defines(esm, "createMLP"), "the check above can see definitions");
  assert.ok(pool.length < 30000, `the pool's file is ${pool.length} bytes`);
  // 145,000 since the pool splits the Jacobian (+4.5 KB, most of it in the pool's file).
  assert.ok(esm.length + pool.length < 145000, `the ESM node bundle and the pool's file are ${esm.length + pool.length} bytes`);
});

test("the ESM node bundle leaves out the inflater: without DecompressionStream its SIMD default starts, the scalar build fails with E_SOURCE", () => {
  const esm = readFileSync(at("dist/mlpgrad.node.js"), "utf8");
  assert.not.match(esm, /LENGTH_BASE|CLEN_ORDER/, "dist/mlpgrad.node.js carries inflate.ts");
  assert.match(readFileSync(at("dist/mlpgrad.cjs"), "utf8"), /CLEN_ORDER/, "dist/mlpgrad.cjs keeps inflate.ts");
  const script = `delete globalThis.DecompressionStream;
    const lib = await import(${JSON.stringify(at("dist/mlpgrad.node.js").href)});
    const net = (await lib.init()).createMLP({ sizes: [2, 1], activations: "identity", layers: [{ weights: [3, -4], bias: [0] }] });
    const out = { gradient: Array.from(net.gradient(new Float32Array([1, 1]))) };
    try { await lib.createEngine({ simd: false }); } catch (error) { out.error = [error instanceof lib.MLPError, error.code, error.message]; }
    console.log(JSON.stringify(out));`;
  const run = spawnSync(process.execPath, ["--input-type=module"], { input: script, encoding: "utf8", timeout: 8000 });
  assert.is(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.equal(out.gradient, [3, -4]);
  assert.equal(out.error.slice(0, 2), [true, "E_SOURCE"]);
  assert.match(out.error[2], /could not be unpacked .*DecompressionStream.*dist\/mlpgrad\.js/);
});

// 9 KB over GZIP_BUDGET since the pool splits the Jacobian (≈ +0.9 KB gzipped; 8 KB before).
test(`with the scalar build too (a runtime without SIMD, or a bundle that does not split code), at most ${(GZIP_BUDGET + 9000) / 1000} KB`, async () => {
  const scalar = await minified("dist/mlpgrad.scalar.js");
  assert.ok(scalar.includes(packed("scalar")), "dist/mlpgrad.scalar.js holds the scalar build");
  const both = gzipSync((await minified("dist/mlpgrad.js")) + scalar, { level: 9 }).length;
  assert.ok(both <= GZIP_BUDGET + 9000, `the entry and its scalar build are ${both} bytes gzipped`);
});

test.run();
