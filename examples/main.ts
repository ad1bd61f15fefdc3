/**
 * `npm start`: the bundled 2-2-3-1 sigmoid network of Higham & Higham (SIAM Review 2019), its input
 * gradient ∇ₓ a^[L](x) at a few points of [0,1]² checked against central finite differences, and the
 * time per gradient of mlpgrad against a plain-JavaScript loop (examples/plain-gradient.ts).
 */
import { readFileSync } from "node:fs";
import { createMLP, init, type MLP, type MLPSpec } from "../src/index.js";
import { PlainMLP } from "./plain-gradient.js";

const MODEL_URL = new URL("../../examples/paper-2-2-3-1.json", import.meta.url);
const POINTS: readonly (readonly [number, number])[] = [
  [0.1, 0.1],
  [0.5, 0.5],
  [0.9, 0.2],
  [0.3, 0.8],
];
// Step of the central difference (f(x + h e_i) − f(x − h e_i)) / 2h: its truncation error is O(h²)
// and its rounding error O(ε/h), so with h = 1e-6 expect agreement to about 1e-10.
const H = 1e-6;
// Anything worse than this means the gradient is wrong, not the finite difference.
const TOLERANCE = 1e-7;
const WARMUP_CALLS = 100_000;
const ROUNDS = 7;
const CALLS_PER_ROUND = 200_000;

const model = JSON.parse(readFileSync(MODEL_URL, "utf8")) as MLPSpec;
const engine = await init();
const net = createMLP(model);
const plain = new PlainMLP(model);

console.log(`mlpgrad example: the ${net.sizes.join("-")} ${net.activations[0]} network of Higham & Higham (2019), ${net.precision}`);
console.log(`engine: ${engine.simd ? "SIMD build (WebAssembly SIMD is available)" : "scalar build (this runtime has no WebAssembly SIMD)"}`);
console.log();

// 1. The gradient against central finite differences of net.forward.
const value = new Float64Array(1);
const f = (x: ArrayLike<number>): number => net.forward(x, value)[0];
const rows: string[][] = [];
let worstFd = 0;
let worstPlain = 0;
for (const point of POINTS) {
  const { value: y, gradient } = net.valueAndGradient(point, new Float64Array(2));
  const reference = plain.gradient(point, new Float64Array(2));
  for (let i = 0; i < point.length; i++) {
    const up = point.slice();
    const down = point.slice();
    up[i] += H;
    down[i] -= H;
    const fd = (f(up) - f(down)) / (2 * H);
    worstFd = Math.max(worstFd, Math.abs(gradient[i] - fd));
    worstPlain = Math.max(worstPlain, Math.abs(gradient[i] - reference[i]));
    rows.push([
      i === 0 ? `(${point.join(", ")})` : "",
      i === 0 ? y.toFixed(12) : "",
      String(i + 1),
      signed(gradient[i]),
      signed(fd),
      signedExp(gradient[i] - fd),
    ]);
  }
}
printTable(["x", "a^[L](x)", "i", "∂a^[L]/∂x_i, mlpgrad", `central difference, h = ${H.toExponential(0)}`, "difference"], rows);
console.log();
console.log(`largest |mlpgrad − finite difference|: ${worstFd.toExponential(1)} (tolerance ${TOLERANCE})`);
console.log(`largest |mlpgrad − plain JS|:          ${worstPlain.toExponential(1)}`);
console.log();

// 2. Time per gradient, each with its output preallocated.
const x = new Float64Array(2);
const out = new Float64Array(2);
let checksum = 0; // consumed at the end, so the loops cannot be optimised away

// Two separate loops, so each call site stays monomorphic. x[0] changes every call so no result is reused.
function runMlpgrad(network: MLP, calls: number): number {
  const start = process.hrtime.bigint();
  for (let k = 0; k < calls; k++) {
    x[0] = (k & 1023) / 1024;
    checksum += network.gradient(x, out)[0];
  }
  return Number(process.hrtime.bigint() - start) / calls;
}
function runPlain(network: PlainMLP, calls: number): number {
  const start = process.hrtime.bigint();
  for (let k = 0; k < calls; k++) {
    x[0] = (k & 1023) / 1024;
    checksum += network.gradient(x, out)[0];
  }
  return Number(process.hrtime.bigint() - start) / calls;
}

x[1] = 0.5;
runMlpgrad(net, WARMUP_CALLS);
runPlain(plain, WARMUP_CALLS);
const mlpgradNs: number[] = [];
const plainNs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // Alternate the order, so neither always runs first in a round.
  if (round % 2 === 0) {
    mlpgradNs.push(runMlpgrad(net, CALLS_PER_ROUND));
    plainNs.push(runPlain(plain, CALLS_PER_ROUND));
  } else {
    plainNs.push(runPlain(plain, CALLS_PER_ROUND));
    mlpgradNs.push(runMlpgrad(net, CALLS_PER_ROUND));
  }
}
const mlpgradMedian = median(mlpgradNs);
const plainMedian = median(plainNs);
console.log(`time per gradient: median of ${ROUNDS} rounds × ${CALLS_PER_ROUND.toLocaleString("en")} calls, after ${WARMUP_CALLS.toLocaleString("en")} warm-up calls`);
printTable(
  ["implementation", "ns / gradient", "range over rounds"],
  [
    [`mlpgrad net.gradient(x, out), ${engine.simd ? "SIMD" : "scalar"}`, mlpgradMedian.toFixed(1), range(mlpgradNs)],
    ["plain JS (examples/plain-gradient.ts)", plainMedian.toFixed(1), range(plainNs)],
  ],
);
const ratio = plainMedian / mlpgradMedian;
if (ratio > 1.05) {
  console.log(`mlpgrad is ${ratio.toFixed(2)}× as fast as plain JS on this network`);
} else {
  console.log(
    (ratio < 0.95 ? `plain JS is ${(1 / ratio).toFixed(2)}× as fast as mlpgrad` : "mlpgrad and plain JS are about as fast") +
      ` on this network: at 2-2-3-1 a gradient is a few dozen\nflops, so fixed per-call costs (checking x and out, copying them, entering WebAssembly) outweigh the arithmetic`,
  );
}
if (!Number.isFinite(checksum)) console.log("(checksum is not finite)");

if (worstFd > TOLERANCE || worstPlain > TOLERANCE) {
  console.error(`error: the gradient disagrees with the finite differences or with plain JS by more than ${TOLERANCE}`);
  process.exitCode = 1;
}
net.dispose();

function signed(v: number): string {
  return (v < 0 ? "" : " ") + v.toFixed(12);
}

function signedExp(v: number): string {
  return (v < 0 ? "" : " ") + v.toExponential(1);
}

function median(values: readonly number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function range(values: readonly number[]): string {
  return `${Math.min(...values).toFixed(1)} – ${Math.max(...values).toFixed(1)}`;
}

/** Prints columns left-aligned, padded to their widest cell, under an underlined header. */
function printTable(header: readonly string[], body: readonly (readonly string[])[]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: readonly string[]): string => cells.map((cell, c) => cell.padEnd(widths[c])).join("   ").trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => "─".repeat(w))));
  for (const row of body) console.log(line(row));
}
