// Size budgets: the kernels and the bundles users download stay small (a regression here is a bug).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { transform } from "esbuild";

const BUDGET: [string, number][] = [
  ["build/mlpgrad.simd.wasm", 40 * 1024],
  ["build/mlpgrad.scalar.wasm", 20 * 1024],
  ["dist/mlpgrad.js", 140 * 1024],
  ["dist/mlpgrad.workerd.js", 90 * 1024],
];
const at = (file: string) => new URL(`../../${file}`, import.meta.url);

for (const [file, limit] of BUDGET) {
  test(`${file} stays within ${limit / 1024} KiB`, () => {
    const size = statSync(at(file)).size;
    assert.ok(size <= limit, `${file} is ${size} bytes, over its budget of ${limit}`);
  });
}

// What a browser app ships: the core entry minified, with the SIMD and scalar builds it embeds (base64),
// gzipped. The threads build is derived from the SIMD bytes at run time, not shipped (init.ts).
const GZIP_BUDGET = 40 * 1000;
test(`the browser entry, minified with its embedded WebAssembly, is at most ${GZIP_BUDGET / 1000} KB gzipped`, async () => {
  const { code } = await transform(readFileSync(at("dist/mlpgrad.js"), "utf8"), { minify: true, format: "esm", target: "es2022" });
  const gzipped = gzipSync(code, { level: 9 }).length;
  assert.ok(gzipped <= GZIP_BUDGET, `dist/mlpgrad.js minified is ${code.length} bytes, ${gzipped} gzipped: over ${GZIP_BUDGET}`);
  // It embeds the SIMD build (gzip, then base64) and the scalar build (base64): both are really there.
  const bytes = (name: string) => readFileSync(at(`build/mlpgrad.${name}.wasm`));
  const base64 = (name: string) => bytes(name).toString("base64");
  assert.ok(code.includes(gzipSync(bytes("simd"), { level: 9 }).toString("base64")), "the SIMD build is embedded, compressed");
  assert.ok(code.includes(base64("scalar")), "the scalar build is embedded");
  assert.not.ok(code.includes(base64("threads")), "the threads build is not embedded");
});

test.run();
