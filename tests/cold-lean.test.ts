// mlpgrad's cold path alone (bench/cold-lean.mjs): the bundle with what one cold start does not execute
// taken out, timed by bench/cold.mjs as mlpgrad-lean for the cold-start target's limit line. A lean copy
// that took out code the path runs would crash or compute something else; one that kept code the path
// does not run would be a limit too high. So: the stripping on small sources whose coverage is known
// (what goes, what stays: declarations, hoisted vars, code only partly unexecuted), then the copy made
// from the real bundle — much smaller, the same S3 gradient bit for bit, its unused API really gone —
// and bench/cold.mjs running it in a fresh process, refusing a stale copy.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { randomCase } from "./helpers.js";
import { gradient as referenceGradient } from "./reference.js";

interface Stripped {
  text: string;
  functions: number;
  statements: number;
}
interface ColdLean {
  stripUnexecuted(source: string, unexecuted: [number, number][]): Stripped;
  writeLeanBundle(options: { out: URL; stampOut: URL }): { bundleBytes: number; leanBytes: number; functions: number; statements: number };
}
interface Mlp {
  gradient(x: Float32Array, out: Float32Array): Float32Array;
  jacobian(x: Float32Array): unknown;
}
interface Library {
  init(): Promise<unknown>;
  createMLP(spec: unknown): Mlp;
}

const root = new URL("../../", import.meta.url);
const coldLean = (await import(new URL("bench/cold-lean.mjs", root).href)) as ColdLean;
const leanContender = (await import(new URL("bench/contenders/lean.mjs", root).href)) as { checkLeanFresh(stamp: URL): void };

/** The offsets of the first occurrence of `snippet` in `source`, as one unexecuted range. */
function rangeOf(source: string, snippet: string): [number, number] {
  const start = source.indexOf(snippet);
  assert.ok(start >= 0, `the source holds ${snippet}`);
  return [start, start + snippet.length];
}

/** Evaluates a module's text (as a data: URL) and returns its exports. */
async function load(text: string): Promise<Record<string, (...args: number[]) => unknown>> {
  return import(`data:text/javascript,${encodeURIComponent(text)}`);
}

test("a function never called keeps its name and parameters, and its body goes", async () => {
  const unused = "function unused(a, b) { const c = a * b; return c + 1; }";
  const source = `export function used(x) { return x + 1; }\nexport ${unused}\n`;
  const body = "{ const c = a * b; return c + 1; }";
  const body0 = source.indexOf(body);
  const { text, functions, statements } = coldLean.stripUnexecuted(source, [[source.indexOf(unused), source.indexOf(unused) + unused.length]]);
  assert.is(functions, 1);
  assert.is(statements, 0);
  assert.ok(body0 > 0 && !text.includes("a * b"), text);
  assert.ok(text.includes("function unused(a, b) {}"), text);
  const module = await load(text);
  assert.is(module.used(2), 3, "the executed function is untouched");
  assert.is(module.unused(2, 3), undefined, "the emptied one returns nothing");
});

test("a statement never reached goes, in a function that ran; declarations and hoisted vars stay", async () => {
  const source = [
    "export function f(x) {",
    "  if (x < 0) { throw new RangeError(`x is ${x}: expected x ≥ 0, a long message`); }",
    "  if (x > 100) { var big = true; }",
    "  let y = x * 2;",
    "  for (let i = 0; i < 0; i++) { y += i; }",
    "  return big === undefined ? y : -y;",
    "}",
  ].join("\n");
  const unexecuted = [
    rangeOf(source, "{ throw new RangeError(`x is ${x}: expected x ≥ 0, a long message`); }"),
    rangeOf(source, "{ var big = true; }"),
    rangeOf(source, "{ y += i; }"),
  ];
  const { text, statements } = coldLean.stripUnexecuted(source, unexecuted);
  assert.is(statements, 2, text);
  assert.not.ok(text.includes("RangeError"), "the unreached throw went");
  assert.not.ok(text.includes("y += i"), "the unreached loop body went");
  assert.ok(text.includes("var big = true"), "a block holding a var stays: `big` is read by code that ran");
  assert.ok(text.includes("let y = x * 2"));
  const module = await load(text);
  assert.is(module.f(3), 6);
});

test("code only partly inside an unexecuted range stays, and so do let, const, function and class declarations", () => {
  const source = [
    "export function g(x) {",
    "  const a = x + 1;",
    "  function helper() { return a; }",
    "  class Box {}",
    "  return a + helper() + (Box ? 0 : 1);",
    "}",
  ].join("\n");
  // A range covering the declarations and half of the return statement (V8 never reports such a thing,
  // but the stripping must not cut a node in two).
  const from = source.indexOf("  const a");
  const to = source.indexOf("helper() + (Box");
  const { text, functions, statements } = coldLean.stripUnexecuted(source, [[from, to]]);
  assert.is(statements, 0, text);
  assert.is(functions, 1, "the nested helper, wholly inside, is emptied");
  assert.ok(text.includes("const a = x + 1") && text.includes("class Box {}") && text.includes("return a + helper()"), text);
});

test("the lean copy of the bundle: much smaller, the same S3 gradients bit for bit, and the API a cold start does not use gone", async () => {
  const dir = mkdtempSync(`${tmpdir()}/mlpgrad-lean-test-`);
  try {
    const out = new URL(`file://${dir}/lean.mjs`);
    const stampOut = new URL(`file://${dir}/stamp.json`);
    const made = coldLean.writeLeanBundle({ out, stampOut });
    assert.ok(made.functions > 40 && made.statements > 20, `emptied ${made.functions} functions and ${made.statements} statements`);
    assert.ok(made.leanBytes < 0.75 * made.bundleBytes, `${made.leanBytes} of ${made.bundleBytes} bytes`);
    assert.not.ok(readFileSync(out, "utf8").includes("sourceMappingURL"), "the bundle's source map is not claimed");
    leanContender.checkLeanFresh(stampOut);

    const real = (await import(new URL("dist/mlpgrad.node.js", root).href)) as Library;
    const lean = (await import(out.href)) as Library;
    await real.init();
    await lean.init();
    // The path the copy was made from: S3's sizes, sigmoid, f32, plain number[] weights as JSON gives them,
    // the gradient written into an array the caller gives (bench/cold.mjs does; allocating it is not on the path).
    const sizes = [100, 256, 256, 1];
    for (const seed of [3, 17, 67]) {
      const { ref, x } = randomCase(sizes, "sigmoid", "f32", seed);
      const spec = () => ({
        sizes,
        activations: "sigmoid",
        precision: "f32",
        layers: JSON.parse(JSON.stringify(ref.W.map((rows, l) => ({ weights: rows.flat(), bias: ref.b[l] })))),
      });
      const a = real.createMLP(spec()).gradient(Float32Array.from(x), new Float32Array(sizes[0]));
      const leanMlp = lean.createMLP(spec());
      const b = new Float32Array(sizes[0]);
      assert.is(leanMlp.gradient(Float32Array.from(x), b), b);
      for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `seed ${seed}, gradient[${i}]: ${b[i]} vs the bundle's ${a[i]}`);
      const want = referenceGradient(ref, x);
      const scale = Math.max(1e-3, ...want.map(Math.abs));
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(b[i] - want[i]) <= 1e-5 * scale, `seed ${seed}, gradient[${i}] against the reference`);
      assert.is(leanMlp.jacobian(Float32Array.from(x)), undefined, "jacobian, which a cold start does not call, is an empty function in the copy");
    }

    // A copy made from another build is refused.
    writeFileSync(stampOut, JSON.stringify({ bundleSha256: "0".repeat(64) }));
    assert.throws(() => leanContender.checkLeanFresh(stampOut), /another build/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bench/cold.mjs runs mlpgrad-lean in a fresh process and checks its gradient against the reference", () => {
  const write = spawnSync(process.execPath, ["bench/cold-lean.mjs"], { cwd: root, encoding: "utf8", timeout: 60_000 });
  assert.is(write.status, 0, write.stderr);
  const run = spawnSync(process.execPath, ["bench/cold.mjs", "mlpgrad-lean", "--shape", "S3"], { cwd: root, encoding: "utf8", timeout: 60_000 });
  const result = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}");
  assert.is(result.status, "ok", `${run.stdout} ${run.stderr}`);
  assert.ok(result.relErr < 1e-5, `relative error ${result.relErr}`);
  for (const key of ["libraryImportMs", "setupMs", "firstCallMs", "libraryTotalMs"]) assert.ok(result[key] > 0, key);
});

test.run();
