/** Helpers shared by the importer suites: which activations the core can build yet, comparisons with the reference, fuzzing. */
import * as assert from "uvu/assert";
import { createMLP, init, MLPError, type MLPSpec } from "../src/index.js";
import { closeTo, relativeError, rng } from "./helpers.js";
export { rejectsCode } from "./helpers.js";
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

const worst = new Map<string, number>();

/** closeTo that also records the worst normwise relative error seen under `label`, for the suite's summary line. */
export function agree(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  const err = relativeError(actual, expected);
  worst.set(label, Math.max(worst.get(label) ?? 0, err));
  closeTo(actual, expected, tol, what);
}

/** Prints the worst agreement figures recorded by agree() (run with test.after). */
export function printAgreement(suiteName: string): void {
  const lines = [...worst].map(([label, err]) => `    ${label}: ${err.toExponential(1)}`);
  if (lines.length > 0) console.log(`\n  ${suiteName}, worst normwise relative error:\n${lines.join("\n")}`);
  worst.clear();
}

/** Builds the model with the core and checks forward and the Jacobian at each x against the f64 reference. */
export function checkAgainstReference(model: PlainModel & { precision?: "f32" | "f64" }, xs: number[][], tol: number, what: string): void {
  const net = createMLP(model as unknown as MLPSpec);
  try {
    for (const x of xs) {
      const ref = refJacobian(model, x);
      const p = model.precision ?? "f32";
      agree(`${p} forward vs f64 reference`, net.forward(x), ref.output, tol, `${what}: forward`);
      agree(`${p} jacobian vs f64 reference`, net.jacobian(x), ref.jacobian, tol, `${what}: jacobian`);
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
  const baseline = process.memoryUsage().arrayBuffers;
  let peak = baseline;
  for (let i = 0; i < count; i++) {
    if (i % 50 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers);
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
  // No case may allocate what a corrupted size field claims: buffers stay within 64 MiB of the start.
  assert.ok(peak - baseline < 64 * 2 ** 20, `fuzz: ArrayBuffer memory grew by ${((peak - baseline) / 2 ** 20).toFixed(0)} MiB`);
  return codes;
}

/** Asserts the promise rejects with an MLPError of `code` whose message matches every pattern. */
/** The IEEE binary16 bits nearest to v (ties to even) and the value they hold; written from the definition. */
export function toF16(v: number): [number, number] {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === 0) return [sign, v];
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  const roundEven = (x: number) => (x - Math.floor(x) === 0.5 ? (Math.floor(x) % 2 === 0 ? Math.floor(x) : Math.ceil(x)) : Math.round(x));
  if (e < -14) {
    const m = roundEven(a / 2 ** -24);
    return [sign | m, (sign ? -1 : 1) * m * 2 ** -24];
  }
  let m = roundEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e > 15) throw new Error("test value out of f16 range");
  return [sign | ((e + 15) << 10) | m, (sign ? -1 : 1) * (1 + m / 1024) * 2 ** e];
}


/** A randomly damaged copy of a JSON value: values replaced by odd ones, keys dropped or renamed "__proto__", arrays cut or grown. */
export function mutateJson(value: unknown, random: () => number, depth = 0): unknown {
  const odd: unknown[] = [null, 0, -1, 1e308, 2 ** 53, 2 ** 62, "x", "__proto__", "constructor", {}, [], [null, 3], true, -0.5, [4294967296, 4294967296]];
  if (value === null || typeof value !== "object" || random() < 0.15 * depth) return random() < 0.5 ? odd[Math.floor(random() * odd.length)] : value;
  if (Array.isArray(value)) {
    const copy = value.map((v) => (random() < 0.3 ? mutateJson(v, random, depth + 1) : v));
    if (random() < 0.1) copy.pop();
    if (random() < 0.05) copy.push(copy[0]);
    return copy;
  }
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (random() < 0.05) continue;
    copy[random() < 0.03 ? "__proto__" : k] = random() < 0.3 ? mutateJson(v, random, depth + 1) : v;
  }
  return copy;
}
