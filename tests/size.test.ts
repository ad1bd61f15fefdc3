// Size budgets: the kernels and the bundles users download stay small (a regression here is a bug).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { statSync } from "node:fs";

const BUDGET: [string, number][] = [
  ["build/mlpgrad.simd.wasm", 40 * 1024],
  ["build/mlpgrad.scalar.wasm", 20 * 1024],
  ["dist/mlpgrad.js", 200 * 1024],
  ["dist/mlpgrad.workerd.js", 90 * 1024],
];

for (const [file, limit] of BUDGET) {
  test(`${file} stays within ${limit / 1024} KiB`, () => {
    const size = statSync(new URL(`../../${file}`, import.meta.url)).size;
    assert.ok(size <= limit, `${file} is ${size} bytes, over its budget of ${limit}`);
  });
}

test.run();
