// Worker threads (createMLPPool): results equal one thread's bit for bit (the threads build is the SIMD
// build's code, and chunks start on the same 64-row blocks), on every kind of partial block, 1–3 threads,
// f32 and f64; errors name the caller's global row; dispose ends the workers; the bundles find
// pool-worker.js; and, in child processes, the visible fallback without SharedArrayBuffer and a
// process that exits whether or not the pool was disposed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
// The Node entry: createMLPPool on worker_threads (index.ts's own starts Web Workers).
import { createEngine, createMLPPool, hasThreads, MLPPool, type MLP, type MLPSpec, type Precision } from "../src/index.node.js";
import { randomCase, rng, rejectsCode, same } from "./helpers.js";
import type { RefActivation } from "./reference.js";

const SIZES = [67, 17, 5, 1];
const ACTS: RefActivation[] = ["tanh", "softplus", "sigmoid"];
const BATCHES = [1, 3, 64, 65, 200, 1000];
const single = await createEngine({ simd: true });

function inputs(n: number, m: number, precision: Precision, seed: number): number[] {
  const random = rng(seed);
  const round = precision === "f32" ? Math.fround : (v: number) => v;
  return Array.from({ length: m * n }, () => round(random() * 4 - 2));
}

test("the threads build runs here (the rest of this file needs it)", () => {
  assert.ok(hasThreads());
});

for (const precision of ["f32", "f64"] as const) {
  test(`${precision} [${SIZES}]: pools of 1, 2, 3 threads equal one thread bit for bit on batches ${BATCHES.join(", ")}`, async () => {
    const c = randomCase(SIZES, ACTS, precision, 600);
    const wide = randomCase([67, 17, 5, 3], ACTS, precision, 601); // n_L = 3 for forwardBatch
    const one = single.createMLP(c.spec);
    const oneWide = single.createMLP(wide.spec);
    const ArrayType = precision === "f32" ? Float32Array : Float64Array;
    for (const threads of [1, 2, 3]) {
      // minRowsPerThread: 1 splits even small batches, so every chunk shape is exercised.
      const pool = await createMLPPool({ spec: c.spec, threads, requireThreads: true, minRowsPerThread: 1 });
      const poolWide = await createMLPPool({ spec: wide.spec, threads, requireThreads: true, minRowsPerThread: 1 });
      assert.is(pool.threads, threads);
      assert.is(pool.fallbackReason, undefined);
      for (const m of BATCHES) {
        const rows = inputs(67, m, precision, m);
        const where = `${threads} threads, m = ${m}`;
        for (const xs of [rows, ArrayType.from(rows)]) {
          const kind = Array.isArray(xs) ? "array" : ArrayType.name;
          same(await pool.gradientBatch(xs), one.gradientBatch(xs), `${where} ${kind} gradientBatch`);
          const both = await pool.valueAndGradientBatch(xs);
          const bothOne = one.valueAndGradientBatch(xs);
          same(both.values, bothOne.values, `${where} ${kind} values`);
          same(both.gradients, bothOne.gradients, `${where} ${kind} gradients`);
          same(await pool.forwardBatch(xs), one.forwardBatch(xs), `${where} ${kind} forwardBatch`);
          same(await poolWide.forwardBatch(xs), oneWide.forwardBatch(xs), `${where} ${kind} forwardBatch n_L = 3`);
        }
      }
      await pool.dispose();
      await poolWide.dispose();
    }
    one.dispose();
    oneWide.dispose();
  });
}

test("results go into out (which is returned); concurrent calls do not mix", async () => {
  const c = randomCase(SIZES, ACTS, "f64", 610);
  const one = single.createMLP(c.spec);
  const pool = await createMLPPool({ spec: c.spec, threads: 3, minRowsPerThread: 1 });
  const a = inputs(67, 300, "f64", 1);
  const b = inputs(67, 500, "f64", 2);
  const out = new Float64Array(300 * 67);
  const values = new Float64Array(500);
  const gradients = new Float64Array(500 * 67);
  const [ra, rb, rf] = await Promise.all([pool.gradientBatch(a, out), pool.valueAndGradientBatch(b, values, gradients), pool.forwardBatch(a)]);
  assert.is(ra, out);
  assert.is(rb.values, values);
  assert.is(rb.gradients, gradients);
  same(out, one.gradientBatch(a), "gradientBatch(a)");
  same(gradients, one.gradientBatch(b), "gradients(b)");
  same(values, one.forwardBatch(b), "values(b)");
  same(rf, one.forwardBatch(a), "forwardBatch(a)");
  one.dispose();
  await pool.dispose();
});

test("a bad value in a worker's rows rejects with E_NONFINITE naming the first bad row of the whole batch", async () => {
  const c = randomCase(SIZES, ACTS, "f32", 620);
  const pool = await createMLPPool({ spec: c.spec, threads: 3, minRowsPerThread: 1 });
  // 1000 rows on 3 threads: rows 0–319 on the main thread, 320–703 on worker 1, 704–999 on worker 2.
  const rows = inputs(67, 1000, "f32", 3);
  const xs = Float32Array.from(rows);
  xs[900 * 67 + 5] = NaN;
  await rejectsCode(pool.gradientBatch(xs), "E_NONFINITE", /xs\[60305\] \(row 900, column 5\) is NaN/);
  xs[500 * 67 + 66] = Infinity;
  await rejectsCode(pool.forwardBatch(xs), "E_NONFINITE", /xs\[33566\] \(row 500, column 66\) is Infinity/);
  xs[10 * 67] = -Infinity;
  await rejectsCode(pool.valueAndGradientBatch(xs), "E_NONFINITE", /row 10, column 0\) is -Infinity/);
  // Plain arrays: what one thread reports (the value itself), not what the copy for the worker held.
  const array: unknown[] = rows.slice();
  array[800 * 67 + 1] = "7";
  await rejectsCode(pool.gradientBatch(array as number[]), "E_NONFINITE", /xs\[53601\] \(row 800, column 1\) is the string "7"/);
  array[750 * 67] = null;
  await rejectsCode(pool.gradientBatch(array as number[]), "E_NONFINITE", /\(row 750, column 0\) is null/);
  rows[600 * 67] = 1e39; // beyond f32
  await rejectsCode(pool.gradientBatch(rows), "E_NONFINITE", /\(row 600, column 0\) is 1e\+39: xs must hold finite numbers within the f32 range/);
  // The pool still works afterwards.
  const good = inputs(67, 1000, "f32", 4);
  same(await pool.gradientBatch(good), pool.network.gradientBatch(good), "after the errors");
  await pool.dispose();
});

test("argument errors reject as MLP's do; bad options are E_OPTIONS", async () => {
  const c = randomCase([3, 4, 1], "tanh", "f64", 630);
  const pool = await createMLPPool({ spec: c.spec, threads: 2 });
  await rejectsCode(pool.gradientBatch([1, 2, 3, 4]), "E_INPUT", /xs: expected m rows of n_1 = 3 numbers/);
  await rejectsCode(pool.gradientBatch([1, 2, 3], new Float64Array(2)), "E_OUTPUT", /expected length 3 \(m × n_1\)/);
  await rejectsCode(pool.valueAndGradientBatch([1, 2, 3], new Float64Array(2)), "E_OUTPUT", /\(m\)/);
  await rejectsCode(pool.forwardBatch([1, 2, 3], new Float32Array(1) as unknown as Float64Array), "E_OUTPUT", /Float64Array/);
  const wide = await createMLPPool({ spec: randomCase([3, 4, 2], "tanh", "f64", 631).spec, threads: 2 });
  await rejectsCode(wide.gradientBatch([1, 2, 3]), "E_NOT_SCALAR", /gradientBatch/);
  await rejectsCode(createMLPPool({ spec: c.spec, threads: 0 }), "E_OPTIONS", /threads must be a positive integer, got 0/);
  await rejectsCode(createMLPPool({ spec: c.spec, threads: 2.5 }), "E_OPTIONS", /threads/);
  await rejectsCode(createMLPPool({ spec: c.spec, minRowsPerThread: -1 }), "E_OPTIONS", /minRowsPerThread/);
  await rejectsCode(createMLPPool(null as unknown as { spec: MLPSpec }), "E_OPTIONS", /expected options/);
  await rejectsCode(createMLPPool({ spec: { ...c.spec, sizes: [3, 0, 1] }, threads: 2 }), "E_SIZES");
  await pool.dispose();
  await wide.dispose();
});

test("by default only batches with enough work per thread are split", async () => {
  const split = (pool: MLPPool, m: number, kind = "gradient") => (pool as unknown as { split(m: number, kind: string): number[] }).split(m, kind);
  const big = await createMLPPool({ spec: randomCase([784, 256, 1], "tanh", "f32", 640).spec, threads: 2 });
  assert.equal(split(big, 255), [0, 255]); // fewer than 2 blocks of 64 per thread
  assert.equal(split(big, 256), [0, 128, 256]);
  assert.equal(split(big, 1000), [0, 512, 1000]); // 16 blocks, 8 each
  assert.equal(split(big, 900), [0, 448, 900]); // 15 blocks: the odd one goes to the worker
  await big.dispose();
  const small = await createMLPPool({ spec: randomCase([10, 32, 32, 1], "tanh", "f32", 641).spec, threads: 3 });
  assert.equal(split(small, 1000), [0, 1000]); // ≈ 2.8k multiply-adds a row: too little work to share
  assert.equal(split(small, 20000).length, 4);
  await small.dispose();
});

test("dispose() ends the workers, releases their blocks, and later calls reject with E_DISPOSED", async () => {
  const c = randomCase(SIZES, ACTS, "f32", 650);
  const pool = await createMLPPool({ spec: c.spec, threads: 3, minRowsPerThread: 1 });
  const running = pool.gradientBatch(inputs(67, 5000, "f32", 5));
  const disposed = pool.dispose();
  assert.ok(pool.isDisposed);
  await rejectsCode(running, "E_DISPOSED", /disposed while this call was running/);
  await disposed;
  assert.is(pool.dispose(), disposed); // again: the same promise
  assert.is(pool.threads, 1);
  assert.ok(pool.network.isDisposed);
  await rejectsCode(pool.gradientBatch(inputs(67, 1, "f32", 6)), "E_DISPOSED", /createMLPPool/);
});

test("a worker that dies rejects its call with E_WORKER; the pool carries on with the others and says so", async () => {
  const c = randomCase(SIZES, ACTS, "f64", 655);
  const pool = await createMLPPool({ spec: c.spec, threads: 3, minRowsPerThread: 1 });
  // White box: a job the worker's message handler throws on (m = -1) kills the thread.
  const worker = (pool as unknown as { workers: { run(job: object): Promise<unknown> }[] }).workers[0];
  await rejectsCode(worker.run({ id: 1e9, kind: "gradient", xs: new Float64Array(1), m: -1, rowBase: 0 }), "E_WORKER", /worker thread failed/);
  assert.is(pool.threads, 2);
  assert.match(pool.fallbackReason ?? "", /a worker thread failed .*; the pool runs on 2 threads/);
  const xs = inputs(67, 1000, "f64", 9);
  same(await pool.gradientBatch(xs), pool.network.gradientBatch(xs), "after losing a worker");
  await pool.dispose();
});

test("createEngine({ shared: true }): a shared memory whose views stay right as it grows", async () => {
  const engine = await createEngine({ shared: true });
  assert.ok(engine.shared && engine.simd);
  assert.ok(engine.memory.buffer instanceof SharedArrayBuffer);
  assert.not.ok(single.shared);
  const small = randomCase([5, 4, 1], "tanh", "f64", 660);
  const net = engine.createMLP(small.spec);
  const before = engine.memoryBytes;
  const big: MLP = engine.createMLP(randomCase([512, 512, 1], "tanh", "f64", 661).spec); // grows the memory
  assert.ok(engine.memoryBytes > before);
  const xs = inputs(5, 100, "f64", 7);
  const reference = single.createMLP(small.spec);
  same(net.gradientBatch(xs), reference.gradientBatch(xs), "after growth");
  same(net.gradient(small.x), reference.gradient(small.x), "gradient after growth");
  for (const n of [net, big, reference]) n.dispose();
  try {
    await createEngine({ shared: true, simd: false });
    assert.unreachable("expected E_NO_THREADS");
  } catch (error) {
    assert.is((error as { code?: string }).code, "E_NO_THREADS");
  }
});

test("the Node ESM and CommonJS bundles start their workers from dist/pool-worker.node.js", async () => {
  const c = randomCase(SIZES, ACTS, "f32", 670);
  const xs = inputs(67, 300, "f32", 8);
  const expected = single.createMLP(c.spec).gradientBatch(xs);
  const esm = (await import(new URL("../mlpgrad.node.js", import.meta.url).href)) as typeof import("../src/index.js");
  const cjs = createRequire(import.meta.url)("../mlpgrad.cjs") as typeof import("../src/index.js");
  for (const [name, lib] of [["esm", esm], ["cjs", cjs]] as const) {
    const pool = await lib.createMLPPool({ spec: c.spec, threads: 2, requireThreads: true, minRowsPerThread: 1 });
    assert.is(pool.threads, 2, name);
    same(await pool.gradientBatch(xs), expected, `${name} bundle`);
    assert.ok(pool instanceof lib.MLPPool, `${name}: a pool is an instance of the entry's MLPPool`);
    await pool.dispose();
  }
});

test("the Node ESM bundle, whose pool code loads with the first createMLPPool: its errors are the bundle's MLPError, its pools instances of the bundle's MLPPool", async () => {
  // A fresh process, so that this bundle's pool file has not been loaded by the test above.
  const bundle = new URL("../mlpgrad.node.js", import.meta.url).href;
  const script = `const lib = await import(${JSON.stringify(bundle)});
    const out = {};
    const spec = { sizes: [3, 5, 1], activations: "tanh", layers: [{ weights: [...Array(15).keys()].map((i) => i / 10 - 0.7), bias: [0, 0.1, 0.2, 0.3, 0.4] }, { weights: [1, -1, 0.5, -0.5, 0.25], bias: [0.1] }] };
    try { new lib.MLPPool(); } catch (error) { out.construct = error.constructor.name + ": " + error.message; }
    out.before = ({}) instanceof lib.MLPPool;
    // The first call fails validation: a typed MLPError of the bundle's own class, as before the split.
    try { await lib.createMLPPool({ spec, threads: 0 }); } catch (error) { out.error = [error instanceof lib.MLPError, error.code, error.message]; }
    try { await lib.createMLPPool({ spec: { ...spec, sizes: [3, 0, 1] }, threads: 2 }); } catch (error) { out.sizes = [error instanceof lib.MLPError, error.code]; }
    const pool = await lib.createMLPPool({ spec, threads: 2, requireThreads: true, minRowsPerThread: 1 });
    out.instance = [pool instanceof lib.MLPPool, Object.getPrototypeOf(pool).constructor.name, typeof pool.gradientBatch];
    await lib.init();
    out.name = lib.MLPPool.name;
    const xs = new Float32Array([0.1, -0.2, 0.3, 0.4, 0.5, -0.6]);
    out.same = Array.from(await pool.gradientBatch(xs)).join() === Array.from(lib.createMLP(spec).gradientBatch(xs)).join();
    out.threads = pool.threads;
    await pool.dispose();
    console.log(JSON.stringify(out));`;
  const run = spawnSync(process.execPath, ["--input-type=module"], { input: script, encoding: "utf8", timeout: 8000 });
  assert.is(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.match(out.construct, /^TypeError: .*createMLPPool\(\)/);
  assert.is(out.before, false);
  assert.equal(out.error, [true, "E_OPTIONS", out.error[2]]);
  assert.match(out.error[2], /threads must be a positive integer, got 0/);
  assert.equal(out.sizes, [true, "E_SIZES"]);
  assert.equal(out.instance, [true, "MLPPool", "function"]);
  assert.is(out.name, "MLPPool");
  assert.is(out.same, true);
  assert.is(out.threads, 2);
});

test("workerUrl starts the workers from that script; a bad one is named in fallbackReason and in E_NO_THREADS", async () => {
  const c = randomCase(SIZES, ACTS, "f64", 675);
  const xs = inputs(67, 300, "f64", 10);
  const expected = single.createMLP(c.spec).gradientBatch(xs);
  const script = new URL("../pool-worker.node.js", import.meta.url);
  for (const workerUrl of [script, script.href, fileURLToPath(script)]) {
    const pool = await createMLPPool({ spec: c.spec, threads: 2, requireThreads: true, minRowsPerThread: 1, workerUrl });
    assert.is(pool.threads, 2, String(workerUrl));
    same(await pool.gradientBatch(xs), expected, `workerUrl ${String(workerUrl)}`);
    await pool.dispose();
  }
  const missing = new URL("../no-such-worker.js", import.meta.url);
  const fallback = await createMLPPool({ spec: c.spec, threads: 2, workerUrl: missing });
  assert.is(fallback.threads, 1);
  assert.ok(fallback.fallbackReason?.includes(missing.href), fallback.fallbackReason);
  same(await fallback.gradientBatch(xs), expected, "the one-thread fallback");
  await fallback.dispose();
  await rejectsCode(createMLPPool({ spec: c.spec, threads: 2, requireThreads: true, workerUrl: missing }), "E_NO_THREADS", /no-such-worker\.js/);
  await rejectsCode(createMLPPool({ spec: c.spec, threads: 2, workerUrl: 42 as unknown as string }), "E_OPTIONS", /workerUrl must be a string or a URL, got/);
});

// The child's last stdout line is a JSON report; a child that does not exit in time fails the test.
function child(mode: string): Record<string, unknown> {
  const script = fileURLToPath(new URL("./fixtures/pool-child.js", import.meta.url));
  const run = spawnSync(process.execPath, [script, mode], { encoding: "utf8", timeout: 8000 });
  assert.is(run.signal, null, `the ${mode} child did not exit by itself within 8 s (a worker kept it alive?)`);
  assert.is(run.status, 0, `the ${mode} child failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").pop()!);
}

test("without SharedArrayBuffer: one thread, a fallbackReason, the same results; requireThreads rejects with E_NO_THREADS", () => {
  const report = child("no-sab");
  assert.is(report.hasThreads, false);
  assert.is(report.threads, 1);
  assert.match(String(report.fallbackReason), /SharedArrayBuffer is not available/);
  assert.is(report.same, true, "results differ from one thread's");
  assert.is(report.code, "E_NO_THREADS");
  assert.match(String(report.message), /2 threads were required, but SharedArrayBuffer is not available/);
});

test("the process exits after dispose(), and also when a pool is forgotten (idle workers are unref'd)", () => {
  for (const mode of ["dispose", "forget"]) {
    const report = child(mode);
    assert.is(report.threads, 2, mode);
    assert.is(report.same, true, mode);
  }
});

test("workers start when Node runs a script from stdin with --input-type=module (an option they would inherit)", () => {
  const index = new URL("../src/index.node.js", import.meta.url).href;
  const script = `const { createMLPPool } = await import(${JSON.stringify(index)});
    const pool = await createMLPPool({ spec: { sizes: [2, 1], layers: [{ weights: [1, 2], bias: [0] }] }, threads: 2, requireThreads: true });
    console.log(String(pool.threads)); // a string: a number would be coloured under FORCE_COLOR
    await pool.dispose();`;
  const run = spawnSync(process.execPath, ["--input-type=module"], { input: script, encoding: "utf8", timeout: 8000 });
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout.trim(), "2");
});

test.run();
