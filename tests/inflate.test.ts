// inflate.ts against node:zlib: every block type (stored, fixed and dynamic Huffman), every strategy zlib
// has, odd and multi-block sizes, the kernels themselves; malformed input is an Error, never a hang.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { constants, gzipSync } from "node:zlib";
import { gunzip } from "../src/inflate.js";
import { rng } from "./helpers.js";

const same = (actual: Uint8Array, expected: Uint8Array, what: string): void => {
  assert.is(actual.length, expected.length, `${what}: length`);
  const bad = actual.findIndex((v, i) => v !== expected[i]);
  assert.is(bad, -1, `${what}: first differing byte`);
};

const OPTIONS: [string, object][] = [
  ["stored (level 0)", { level: 0 }],
  ["level 1", { level: 1 }],
  ["level 6", { level: 6 }],
  ["level 9", { level: 9 }],
  ["fixed Huffman only", { level: 9, strategy: constants.Z_FIXED }],
  ["Huffman only, no matches", { strategy: constants.Z_HUFFMAN_ONLY }],
  ["run lengths", { strategy: constants.Z_RLE }],
];

test("gunzip equals zlib on the kernel builds, every strategy", () => {
  for (const name of ["simd", "scalar", "threads"]) {
    const bytes = readFileSync(new URL(`../../build/mlpgrad.${name}.wasm`, import.meta.url));
    for (const [what, options] of OPTIONS) same(gunzip(gzipSync(bytes, options)), bytes, `${name}, ${what}`);
  }
});

test("gunzip equals zlib on random, repetitive and constant data of odd and multi-block sizes", () => {
  const random = rng(11);
  const text = "abcab cabbage ";
  for (const n of [0, 1, 3, 4, 5, 7, 8, 17, 67, 258, 259, 1000, 32769, 70001, 200003]) {
    const kinds: [string, Uint8Array][] = [
      ["random", Uint8Array.from({ length: n }, () => Math.floor(random() * 256))],
      ["text", Uint8Array.from({ length: n }, () => text.charCodeAt(Math.floor(random() * text.length)))],
      ["zeros", new Uint8Array(n)],
    ];
    for (const [kind, bytes] of kinds) {
      for (const [what, options] of OPTIONS) same(gunzip(gzipSync(bytes, options)), bytes, `${kind} ${n}, ${what}`);
    }
  }
});

test("malformed gzip is an Error, truncated or flipped, never a hang", () => {
  const bytes = readFileSync(new URL("../../build/mlpgrad.scalar.wasm", import.meta.url));
  const packed = gzipSync(bytes, { level: 9 });
  assert.throws(() => gunzip(new Uint8Array(10)), /not a gzip member/);
  assert.throws(() => gunzip(packed.subarray(0, packed.length >> 1)));
  const random = rng(12);
  const started = Date.now();
  let failed = 0;
  for (let i = 0; i < 300; i++) {
    const copy = Uint8Array.from(packed);
    copy[10 + Math.floor(random() * (copy.length - 18))] ^= 1 << Math.floor(random() * 8);
    try {
      const out = gunzip(copy);
      assert.is(out.length, bytes.length, "a flipped bit that still decodes keeps the trailer's length");
    } catch (error) {
      assert.instance(error, Error);
      failed++;
    }
  }
  assert.ok(failed > 0, "flipped bits are noticed");
  assert.ok(Date.now() - started < 5000, "300 corrupted members within 5 s");
});

test.run();
