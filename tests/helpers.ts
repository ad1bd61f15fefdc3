/** Shared test helpers: a seeded PRNG, random networks, tolerant comparisons that name the first bad index. */
import * as assert from "uvu/assert";
import { createEngine, type Engine, type MLPError, type MLPSpec, type Precision } from "../src/index.js";
import type { RefActivation, RefNetwork } from "./reference.js";

/** mulberry32: a small seeded generator, so every failure can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box–Muller. */
export function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Widths that make every SIMD loop run several iterations and a tail. */
export const WIDTHS = [1, 3, 4, 5, 7, 8, 17, 67, 256];
export const ACTIVATIONS: RefActivation[] = ["sigmoid", "tanh", "relu", "leakyRelu", "softplus", "identity"];
/** The activations added for real models, with parameters at their defaults and at the values other tools use. */
export const NEW_ACTIVATIONS: RefActivation[] = [
  "elu", "selu", "gelu", "geluTanh", "swish", "mish", "relu6", "softsign", "hardSigmoid",
  { name: "leakyRelu", alpha: 0.3 }, // Keras 2 / TF.js LeakyReLU
  { name: "leakyRelu", alpha: 0.009999999776482582 }, // ONNX LeakyRelu alpha 0.01 as a float32
  { name: "elu", alpha: 0.5 },
  { name: "hardSigmoid", slope: 1 / 6, offset: 0.5 }, // Keras 3 / PyTorch relu6(z + 3)/6
];
/** Every elementwise activation. */
export const ALL_ACTIVATIONS: RefActivation[] = [...ACTIVATIONS, ...NEW_ACTIVATIONS];

/** A short label for test names. */
export function label(act: RefActivation): string {
  return typeof act === "string" ? act : JSON.stringify(act);
}

export interface Case {
  spec: MLPSpec;
  ref: RefNetwork;
  x: number[];
}

/**
 * A random network W ~ N(0,1)·scale/√fan_in, b ~ N(0, 0.1), x ~ U(−1, 1). For f32 the weights and x are
 * rounded to f32 first, so the reference describes exactly the network the library holds.
 */
export function randomCase(
  sizes: number[],
  activations: RefActivation | RefActivation[],
  precision: Precision,
  seed: number,
  scale = 1,
): Case {
  const random = rng(seed);
  const round = precision === "f32" ? Math.fround : (v: number) => v;
  const acts: RefActivation[] = Array.isArray(activations) ? activations : new Array(sizes.length - 1).fill(activations);
  const W: number[][][] = [];
  const b: number[][] = [];
  for (let l = 1; l < sizes.length; l++) {
    const s = scale / Math.sqrt(sizes[l - 1]);
    W.push(Array.from({ length: sizes[l] }, () => Array.from({ length: sizes[l - 1] }, () => round(normal(random) * s))));
    b.push(Array.from({ length: sizes[l] }, () => round(normal(random) * 0.1)));
  }
  const x = Array.from({ length: sizes[0] }, () => round(random() * 2 - 1));
  const spec: MLPSpec = {
    sizes,
    activations: acts,
    precision,
    layers: W.map((rows, i) => ({ weights: rows.flat(), bias: b[i] })),
  };
  return { spec, ref: { sizes, activations: acts, W, b }, x };
}

export function norm(v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  return Math.sqrt(sum);
}

/** ‖actual − expected‖ / ‖expected‖ (absolute when expected is 0). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  const diff = Array.from(expected, (e, i) => actual[i] - e);
  const scale = norm(expected);
  return scale === 0 ? norm(diff) : norm(diff) / scale;
}

/** Asserts a normwise relative error ≤ tol; the message names the worst index. */
export function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = "result"): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (!Number.isFinite(actual[i])) assert.unreachable(`${what}[${i}] is ${actual[i]}, expected ${expected[i]}`);
  }
  const err = relativeError(actual, expected);
  if (!(err <= tol)) {
    let worst = 0;
    for (let i = 1; i < actual.length; i++) {
      if (Math.abs(actual[i] - expected[i]) > Math.abs(actual[worst] - expected[worst])) worst = i;
    }
    assert.unreachable(
      `${what}: relative error ${err.toExponential(2)} > ${tol}; worst at [${worst}]: got ${actual[worst]}, expected ${expected[worst]}`,
    );
  }
}

/** Asserts that fn throws an MLPError with this code whose message matches every pattern. */
export function throwsCode(fn: () => unknown, code: string, ...patterns: RegExp[]): void {
  try {
    fn();
  } catch (error) {
    const e = error as { name?: string; code?: string; message?: string };
    assert.is(e.name, "MLPError", `expected an MLPError, got ${String(error)}`);
    assert.is(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    for (const p of patterns) assert.match(e.message ?? "", p);
    return;
  }
  assert.unreachable(`expected an MLPError ${code}, nothing was thrown`);
}

/** Both builds, so every case runs on the SIMD and the scalar kernels. */
/** Asserts equality element by element (Object.is), naming the first difference; `reference` names what was expected. */
export function same(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, reference = "one thread"): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.unreachable(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (${reference})`);
  }
}

/** As throwsCode, for a promise: it must reject with MLPError `code` (checked by name, so errors from another copy of the library count); returns the error. */
export async function rejectsCode(promise: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<MLPError> {
  try {
    await promise;
  } catch (error) {
    const e = error as MLPError;
    assert.is(e?.name, "MLPError", `expected an MLPError, got ${String(error)}`);
    assert.is(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    for (const p of patterns) assert.match(e.message ?? "", p);
    return e;
  }
  return assert.unreachable(`expected a rejection with ${code}, the promise resolved`) as never;
}

export async function engines(): Promise<{ name: string; engine: Engine }[]> {
  return [
    { name: "simd", engine: await createEngine({ simd: true }) },
    { name: "scalar", engine: await createEngine({ simd: false }) },
  ];
}
