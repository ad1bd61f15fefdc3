/** Helpers shared by the importer suites: which activations the core can build yet, comparisons with the reference, fuzzing. */
import * as assert from "uvu/assert";
import { createMLP, init, MLPError, type MLPSpec } from "../src/index.js";
import { closeTo, rng } from "./helpers.js";
import { refJacobian, type Act, type PlainModel } from "./import-reference.js";

await init();

const support = new Map<string, boolean>();

/**
 * Whether the core builds a network with activation `a` (the activations beyond the original six arrive
 * with branch h7; until then the core rejects them with E_ACTIVATION and the tests that need them are
 * registered as skipped, labelled "[waits for h7]", never as passing).
 */
export function coreSupports(a: Act): boolean {
  const key = JSON.stringify(a);
  let ok = support.get(key);
  if (ok === undefined) {
    try {
      createMLP({ sizes: [2, 2], activations: [a] as never, layers: [{ weights: [1, 0, 0, 1], bias: [0, 0] }] }).dispose();
      ok = true;
    } catch (error) {
      if (!(error instanceof MLPError) || error.code !== "E_ACTIVATION") throw error;
      ok = false;
    }
    support.set(key, ok);
  }
  return ok;
}

/** Whether every activation of `model` can be built by the core now. */
export function buildable(model: PlainModel): boolean {
  const list = Array.isArray(model.activations) ? model.activations : [model.activations];
  return list.every(coreSupports);
}

/** Registers `body` as a test, or as a skipped one labelled "[waits for h7]" when the core cannot build `acts` yet. */
export function testNeedingCore(
  suite: { (name: string, fn: () => void | Promise<void>): void; skip(name?: string, fn?: () => void | Promise<void>): void },
  name: string,
  acts: Act[],
  body: () => void | Promise<void>,
): void {
  if (acts.every(coreSupports)) suite(name, body);
  else suite.skip(`[waits for h7] ${name}`, body);
}

/** Builds the model with the core and checks forward and the Jacobian at each x against the f64 reference. */
export function checkAgainstReference(model: PlainModel & { precision?: "f32" | "f64" }, xs: number[][], tol: number, what: string): void {
  const net = createMLP(model as unknown as MLPSpec);
  try {
    for (const x of xs) {
      const ref = refJacobian(model, x);
      closeTo(net.forward(x), ref.output, tol, `${what}: forward`);
      closeTo(net.jacobian(x), ref.jacobian, tol, `${what}: jacobian`);
    }
  } finally {
    net.dispose();
  }
}

/** Random inputs in (−scale, scale), rounded to f32 so both precisions see the same x. */
export function inputs(n: number, count: number, seed: number, scale = 1): number[][] {
  const random = rng(seed);
  return Array.from({ length: count }, () => Array.from({ length: n }, () => Math.fround((random() * 2 - 1) * scale)));
}

/**
 * Runs `load` on `count` corrupted copies of `bytes` (truncations, bit flips, byte overwrites, spliced
 * runs) and asserts each either succeeds or throws an MLPError, all within `budgetMs`. Returns the codes seen.
 */
export async function fuzzBytes(bytes: Uint8Array, load: (b: Uint8Array) => Promise<unknown>, count: number, seed: number, budgetMs: number): Promise<Map<string, number>> {
  const random = rng(seed);
  const codes = new Map<string, number>();
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const kind = i % 4;
    let b: Uint8Array;
    if (kind === 0) b = bytes.slice(0, Math.floor(random() * bytes.length));
    else {
      b = bytes.slice();
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(random() * b.length);
        if (kind === 1) b[at] ^= 1 << Math.floor(random() * 8);
        else if (kind === 2) b[at] = Math.floor(random() * 256);
        else {
          // Bias the damage towards the start, where headers and lengths live.
          const head = Math.floor(random() * Math.min(b.length, 64));
          b[head] = [0x00, 0xff, 0x7f, 0x80, 0x0a, 0x12][Math.floor(random() * 6)];
        }
      }
    }
    try {
      await load(b);
      codes.set("ok", (codes.get("ok") ?? 0) + 1);
    } catch (error) {
      if (!(error instanceof MLPError)) assert.unreachable(`fuzz case ${i} (kind ${kind}): threw ${String(error)} instead of an MLPError`);
      const code = (error as MLPError).code;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
  }
  const elapsed = performance.now() - start;
  assert.ok(elapsed < budgetMs, `fuzz: ${count} cases took ${elapsed.toFixed(0)} ms > ${budgetMs} ms`);
  return codes;
}

/** Asserts the promise rejects with an MLPError of `code` whose message matches every pattern. */
export async function rejectsCode(promise: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<MLPError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MLPError, `expected an MLPError, got ${String(error)}`);
    const e = error as MLPError;
    assert.is(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    for (const p of patterns) assert.match(e.message, p);
    return e;
  }
  return assert.unreachable(`expected an MLPError ${code}, the promise resolved`) as never;
}
