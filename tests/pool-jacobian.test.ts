// One input's Jacobian on several threads (pool.jacobian, pool.gradientOf; src/split.ts): jacobianStep cut
// into ranges of whole 64-byte tiles of features, in any order, equals the whole step bit for bit in both
// builds and precisions (the kernel's 4-vector tiles and their 1-vector tails, feature counts that are not
// a multiple of a tile, sums over more than one 64-row block, 2–16 columns); the Jacobian's split schedule
// run chunk by chunk on one thread (either chunk order) equals createMLP's jacobian in both builds; pools
// of 1–3 threads equal one thread bit for bit for n_L = 1, 3, 10, 17 (two rounds), f32 and f64, softmax /
// logSoftmax outputs, and stay within the reference's tolerance; gradientOf likewise (k, logit); errors
// reject as MLP's do; batch calls wait for a split Jacobian that holds the batch block; small networks
// stay on one thread; a worker that dies mid-call; adaptiveSplit times the Jacobian apart from the gradient.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngine, createMLPPool, type MLP, type MLPError } from "../src/index.node.js";
import type { Engine } from "../src/engine.js";
import { JACOBIAN_COLUMNS, jacobianRounds, jacobianStep, jacobianTopStep, jacobianWidth, type BatchRunner } from "../src/batch.js";
import type { NetworkLayout } from "../src/memory.js";
import { jacobianSchedule, runJacobianChunk, splitTask } from "../src/split.js";
import { closeTo, engines, label, normal, randomCase, rejectsCode, rng, same } from "./helpers.js";
import * as ref from "./reference.js";
import type { RefActivation } from "./reference.js";

const builds = await engines();
const single = await createEngine({ simd: true });
const TOL = { f32: 2e-4, f64: 1e-10 };

type Internal = {
  batchPlan: { layout: NetworkLayout };
  batchRunner(): BatchRunner;
  splitBegin(method: string, x: ArrayLike<number>, out: undefined): Float32Array | Float64Array;
};

for (const { name, engine } of builds) {
  for (const precision of ["f32", "f64"] as const) {
    test(`${name} ${precision}: jacobianStep over ranges of whole tiles of features, in either order, equals the whole step bit for bit`, () => {
      const size = precision === "f32" ? 4 : 8;
      const tile = 64 / size;
      const random = rng(size * 313);
      const round = precision === "f32" ? Math.fround : (v: number) => v;
      // A network [cols, rows, 2]: jacobianStep i = 0 runs through W of layer 0 (rows × cols), from G in the
      // block's layers[0].g into its grad buffer (J's rows), with s = 0; i = 1 of [n, cols, rows, 2] has s.
      for (const rows of [1, 3, 17, 65, 130]) {
        for (const cols of [1, 3, 4, 5, 7, 8, 17, 33, 67, 100]) {
          for (const withS of [false, true]) {
            const sizes = withS ? [3, cols, rows, 2] : [cols, rows, 2];
            const c = randomCase(sizes, "tanh", precision, rows * 1000 + cols);
            const net = engine.createMLP(c.spec) as unknown as Internal & MLP;
            const runner = net.batchRunner();
            const t = { kernels: engine.kernels, precision, layout: net.batchPlan.layout, block: runner.block };
            const i = withS ? 1 : 0;
            net.forward(c.x); // s^[l] for the step with s
            const view = precision === "f32" ? new Float32Array(engine.memory.buffer) : new Float64Array(engine.memory.buffer);
            const gColumn = Math.ceil((rows * size) / 16) * 16;
            const outColumn = Math.ceil((cols * size) / 16) * 16;
            const gAt = runner.block.layers[i].g / size;
            const outAt = (i > 0 ? runner.block.layers[i - 1].g : runner.block.grad) / size;
            for (const width of [2, 4, 10, 16]) {
              for (let e = 0; e < width * gColumn / size; e++) view[gAt + e] = round(normal(random));
              view.fill(NaN, outAt, outAt + (width * outColumn) / size);
              jacobianStep(t, i, width, 0, cols);
              const whole = Array.from(view.subarray(outAt, outAt + (width * outColumn) / size));
              // The plain f64 sum, column by column.
              for (let col = 0; col < width; col++) {
                const want = Array.from({ length: cols }, (_, j) => {
                  let sum = 0;
                  for (let r = 0; r < rows; r++) sum += c.ref.W[i][r][j] * view[gAt + (col * gColumn) / size + r];
                  return withS ? sum * view[net.batchPlan.layout.layers[i - 1].s / size + j] : sum;
                });
                closeTo(whole.slice((col * outColumn) / size, (col * outColumn) / size + cols), want, precision === "f32" ? 1e-4 : 1e-12, `reference rows ${rows}, cols ${cols}, column ${col}`);
              }
              for (let units = 1; units * tile < cols + tile; units++) {
                for (const reverse of [false, true]) {
                  view.fill(NaN, outAt, outAt + (width * outColumn) / size);
                  const starts: number[] = [];
                  for (let c0 = 0; c0 < cols; c0 += units * tile) starts.push(c0);
                  if (reverse) starts.reverse();
                  for (const c0 of starts) jacobianStep(t, i, width, c0, Math.min(cols, c0 + units * tile));
                  // Every column's features (the padding lanes to the vector too) are those of the whole step.
                  for (let col = 0; col < width; col++) {
                    const from = (col * outColumn) / size;
                    const to = from + Math.ceil(cols / (16 / size)) * (16 / size);
                    same(view.subarray(outAt + from, outAt + to), whole.slice(from, to), `rows ${rows}, cols ${cols}, s ${withS}, width ${width}, ranges of ${units} tiles${reverse ? " in reverse" : ""}, column ${col}`, "the whole step");
                  }
                }
              }
            }
            net.dispose();
          }
        }
      }
    });
  }
}

/**
 * The pool's Jacobian schedule for `threads` threads run on this thread alone, chunk by chunk (either
 * order), with the main thread's steps between phases as pool.ts's runJacobian takes them.
 */
function jacobianSerially(engine: Engine, net: MLP, x: ArrayLike<number>, threads: number, minLayerBytes: number, reverse: boolean): ArrayLike<number> {
  const internal = net as unknown as Internal;
  const layout = internal.batchPlan.layout;
  const runner = internal.batchRunner();
  const task = splitTask(layout, net.precision, engine.kernels, engine.memory, runner.block);
  const t = task as typeof task & { block: NonNullable<typeof task.block> };
  const out = internal.splitBegin("jacobian", x, undefined);
  const chunks = jacobianSchedule(layout, threads, minLayerBytes);
  const count = layout.layers.length;
  const nL = layout.layers[count - 1].rows;
  const rounds = jacobianRounds(nL);
  assert.is(chunks.length, count + rounds * (count - 1), "phases: forward, then a step per layer below the top per round");
  const run = (p: number) => {
    for (let i = 0; i < chunks[p]; i++) runJacobianChunk(task, chunks, p, reverse ? chunks[p] - 1 - i : i);
  };
  for (let p = 0; p < count; p++) run(p);
  for (let r = 0; r < rounds; r++) {
    const k0 = JACOBIAN_COLUMNS * r;
    jacobianTopStep(t, k0, jacobianWidth(nL, k0));
    for (let q = 0; q < count - 1; q++) run(count + r * (count - 1) + q);
    runner.jacobianRows(out, k0);
  }
  runner.jacobianOutput(out);
  return out;
}

// Odd widths; feature counts that are not a multiple of a tile (67, 33, 100: a 1-vector tail, a 4-vector
// tile and a part of one); n_L = 1, 3, 10, 17 (two rounds: 16 columns, then 1 and a zero column); a
// width-1 layer; one layer alone.
const SHAPES: [number[], RefActivation[]][] = [
  [[67, 131, 17], ["tanh", "sigmoid"]],
  [[100, 67, 33, 10], ["gelu", "tanh", "identity"]],
  [[5, 257, 3], ["sigmoid", "softplus"]],
  [[133, 131, 67, 1], ["tanh", "relu", "sigmoid"]],
  [[17, 1, 67, 10], ["tanh", "sigmoid", "tanh"]],
  [[33, 17], ["sigmoid"]],
  [[3, 5, 17, 67, 17], ["relu", "tanh", "gelu", "sigmoid"]],
];

for (const { name, engine } of builds) {
  test(`${name}: the Jacobian's split schedule run chunk by chunk on one thread equals the one-thread jacobian bit for bit`, () => {
    for (const precision of ["f32", "f64"] as const) {
      for (const [n, [sizes, acts]] of SHAPES.entries()) {
        const c = randomCase(sizes, acts, precision, 7100 + n);
        const net = engine.createMLP(c.spec);
        const expected = Array.from(net.jacobian(c.x));
        closeTo(expected, ref.jacobian(c.ref, c.x).flat(), TOL[precision], `reference ${name} ${precision} [${sizes}]`);
        for (const threads of [1, 2, 3]) {
          for (const minLayer of [0, 4000, 1 << 16]) {
            for (const reverse of [false, true]) {
              const where = `${name} ${precision} [${sizes}], ${threads} threads, layers from ${minLayer} bytes${reverse ? ", chunks in reverse" : ""}`;
              same(jacobianSerially(engine, net, c.x, threads, minLayer, reverse), expected, where);
            }
          }
        }
        net.dispose();
      }
    }
  });
}

test("jacobianSchedule: the forward phases as the gradient's, then per round a phase per layer below the top, in ranges of whole tiles", () => {
  const c = randomCase([100, 67, 33, 17], "tanh", "f32", 7200);
  const net = single.createMLP(c.spec);
  const layout = (net as unknown as Internal).batchPlan.layout;
  // Forward: row ranges of 4 (67 rows: 17 units, 33: 9, 17: 5), 4 per thread; then two rounds (17
  // outputs) of the steps through W of layers 1 (67 features: 5 tiles of 16) and 0 (100: 7 tiles), in
  // one range of tiles per thread.
  assert.equal(jacobianSchedule(layout, 2, 0), [8, 8, 5, 2, 2, 2, 2]);
  assert.equal(jacobianSchedule(layout, 1, 0), [1, 1, 1, 1, 1, 1, 1]);
  // 67 × 100 f32 (26,800 bytes) is shared from 20,000 bytes, 33 × 68 (8,976) and 17 × 36 are not.
  assert.equal(jacobianSchedule(layout, 3, 20_000), [12, 1, 1, 1, 3, 1, 3]);
  net.dispose();
});

for (const precision of ["f32", "f64"] as const) {
  test(`${precision}: pool.jacobian on 1, 2, 3 threads equals one thread bit for bit (n_L = 1, 3, 10, 17), within the reference's tolerance`, async () => {
    for (const [n, [sizes, acts]] of SHAPES.entries()) {
      const c = randomCase(sizes, acts, precision, 7300 + n);
      const one = single.createMLP(c.spec);
      const expected = one.jacobian(c.x);
      closeTo(expected, ref.jacobian(c.ref, c.x).flat(), TOL[precision], `reference [${sizes}]`);
      for (const threads of [1, 2, 3]) {
        const pool = await createMLPPool({ spec: c.spec, threads, minSplitBytes: 0, adaptiveSplit: false });
        const where = `${precision} ${threads} threads [${sizes}]`;
        assert.is(pool.jacobianThreads, threads, `the call is split: ${where}`);
        const out = new (precision === "f32" ? Float32Array : Float64Array)(sizes[0] * sizes[sizes.length - 1]);
        const result = await pool.jacobian(c.x, out as never);
        assert.is(result, out, "returns out");
        same(out, expected, `jacobian ${where}`);
        same(await pool.jacobian(c.x), pool.network.jacobian(c.x), `jacobian (pool.network) ${where}`);
        // gradientOf splits as gradient does: each output, of a^[L] and of z^[L].
        for (const k of [0, sizes[sizes.length - 1] - 1]) {
          same(await pool.gradientOf(c.x, k), one.gradientOf(c.x, k), `gradientOf ${k} ${where}`);
          same(await pool.gradientOf(c.x, k, undefined, { logit: true }), one.gradientOf(c.x, k, undefined, { logit: true }), `gradientOf ${k} logit ${where}`);
        }
        await pool.dispose();
      }
      one.dispose();
    }
  });
}

test("softmax and logSoftmax outputs: pool.jacobian and gradientOf on 2 and 3 threads equal one thread bit for bit", async () => {
  for (const precision of ["f32", "f64"] as const) {
    for (const output of ["softmax", "logSoftmax"] as RefActivation[]) {
      const sizes = [67, 131, 17];
      const c = randomCase(sizes, ["gelu", output], precision, 7400);
      const one = single.createMLP(c.spec);
      const expected = one.jacobian(c.x);
      closeTo(expected, ref.jacobian(c.ref, c.x).flat(), TOL[precision], `reference ${label(output)}`);
      for (const threads of [2, 3]) {
        const pool = await createMLPPool({ spec: c.spec, threads, minSplitBytes: 0, adaptiveSplit: false });
        same(await pool.jacobian(c.x), expected, `jacobian ${precision} ${threads} ${label(output)}`);
        for (const k of [0, 9, 16]) same(await pool.gradientOf(c.x, k), one.gradientOf(c.x, k), `gradientOf ${k} ${precision} ${threads} ${label(output)}`);
        await pool.dispose();
      }
      one.dispose();
    }
  }
});

test("a large network under the default thresholds: the Jacobian splits on 2 threads, bit for bit", async () => {
  // 1.2 MiB of f32 weights (over minSplitBytes), every layer over the 64 KiB layer threshold.
  const c = randomCase([300, 512, 300, 10], "tanh", "f32", 7500);
  const pool = await createMLPPool({ spec: c.spec, threads: 2, adaptiveSplit: false });
  assert.is(pool.jacobianThreads, 2);
  const expected = single.createMLP(c.spec).jacobian(c.x);
  for (let i = 0; i < 3; i++) same(await pool.jacobian(c.x), expected, `call ${i}`);
  await pool.dispose();
  const small = await createMLPPool({ spec: randomCase([67, 17, 10], "tanh", "f32", 7501).spec, threads: 2 });
  assert.is(small.jacobianThreads, 1, "small networks stay on one thread");
  await small.dispose();
});

test("the Jacobian's threshold counts its work: weight bytes × (1 + n_L) / 2 against minSplitBytes", async () => {
  // [100, 256, 256, 10] f32: 379 040 weight bytes (rows padded), under 1 MiB for a gradient; × 5.5 = 2.1 MB for the Jacobian.
  const mid = randomCase([100, 256, 256, 10], "sigmoid", "f32", 7502);
  const pool = await createMLPPool({ spec: mid.spec, threads: 2, adaptiveSplit: false });
  assert.is(pool.splitThreads, 1, "a gradient of 0.38 MB stays on one thread");
  assert.is(pool.jacobianThreads, 2, "its Jacobian splits");
  same(await pool.jacobian(mid.x), single.createMLP(mid.spec).jacobian(mid.x), "split Jacobian on the default thresholds");
  await pool.dispose();
  // [64, 128, 128, 10]: 209 056 weight bytes in f64, × 5.5 = 1 149 808 ≥ 2^20; in f32 about half that.
  for (const [precision, threads] of [["f64", 2], ["f32", 1]] as const) {
    const edge = randomCase([64, 128, 128, 10], "tanh", precision, 7503);
    const p = await createMLPPool({ spec: edge.spec, threads: 2, adaptiveSplit: false });
    assert.is(p.jacobianThreads, threads, `[64, 128, 128, 10] ${precision}`);
    assert.is(p.splitThreads, 1, `[64, 128, 128, 10] ${precision}: gradients stay on one thread`);
    same(await p.jacobian(edge.x), single.createMLP(edge.spec).jacobian(edge.x), `[64, 128, 128, 10] ${precision}`);
    await p.dispose();
  }
  // n_L = 1: the Jacobian is a gradient, and splits exactly when a gradient does, on either side of its weight bytes.
  const one = randomCase([100, 256, 256, 1], "sigmoid", "f64", 7504);
  const { layout } = (single.createMLP(one.spec) as unknown as Internal).batchPlan;
  const bytes = layout.layers.reduce((sum, layer) => sum + layer.rows * layer.stride * layout.elementBytes, 0);
  for (const [minSplitBytes, threads] of [[bytes, 2], [bytes + 1, 1]] as const) {
    const p1 = await createMLPPool({ spec: one.spec, threads: 2, adaptiveSplit: false, minSplitBytes });
    assert.is(p1.splitThreads, threads, `gradient, minSplitBytes ${minSplitBytes}`);
    assert.is(p1.jacobianThreads, threads, `Jacobian, minSplitBytes ${minSplitBytes}`);
    await p1.dispose();
  }
});

for (const precision of ["f32", "f64"] as const) {
  test(`${precision}: layers long enough that the workers take chunks: 20 back-to-back calls on 2 and 3 threads equal one thread bit for bit`, async () => {
    // 301 and 515 features: a part of a tile at the end of each step; two rounds of columns (n_L = 17).
    const c = randomCase([301, 515, 257, 17], ["tanh", "sigmoid", "gelu"], precision, 7550);
    const one = single.createMLP(c.spec);
    const expected = one.jacobian(c.x);
    closeTo(expected, ref.jacobian(c.ref, c.x).flat(), TOL[precision], "reference");
    for (const threads of [2, 3]) {
      const pool = await createMLPPool({ spec: c.spec, threads, minSplitBytes: 0, adaptiveSplit: false });
      for (let i = 0; i < 20; i++) same(await pool.jacobian(c.x), expected, `${threads} threads, call ${i}`);
      same(await pool.gradientOf(c.x, 16), one.gradientOf(c.x, 16), `gradientOf, ${threads} threads`);
      await pool.dispose();
    }
    one.dispose();
  });
}

test("concurrent calls: jacobians queue with gradients, and batches wait for a split Jacobian (it uses the batch block)", async () => {
  const c = randomCase([67, 257, 17, 10], "sigmoid", "f32", 7600);
  const pool = await createMLPPool({ spec: c.spec, threads: 3, minSplitBytes: 0, adaptiveSplit: false, minRowsPerThread: 64 });
  const one = single.createMLP(c.spec);
  const random = rng(7);
  const xs = Array.from({ length: 6 }, () => Array.from({ length: 67 }, () => Math.fround(random() * 2 - 1)));
  const batch = Array.from({ length: 200 * 67 }, () => Math.fround(random() * 2 - 1));
  const calls: Promise<ArrayLike<number>>[] = [];
  for (const [i, x] of xs.entries()) {
    calls.push(pool.jacobian(x));
    calls.push(i % 2 === 0 ? pool.gradientOf(x, i) : pool.vjp(x, Array.from({ length: 10 }, (_, k) => k - 4)));
    calls.push(pool.forwardBatch(batch));
  }
  const results = await Promise.all(calls);
  const forwards = one.forwardBatch(batch);
  for (const [i, x] of xs.entries()) {
    same(results[3 * i], one.jacobian(x), `jacobian ${i}`);
    same(results[3 * i + 1], i % 2 === 0 ? one.gradientOf(x, i) : one.vjp(x, Array.from({ length: 10 }, (_, k) => k - 4)), `gradientOf / vjp ${i}`);
    same(results[3 * i + 2], forwards, `forwardBatch ${i}`);
  }
  one.dispose();
  await pool.dispose();
});

test("a batch call waits while a split Jacobian holds the batch block (white box: the hold set by hand)", async () => {
  const c = randomCase([67, 257, 17, 10], "tanh", "f32", 7650);
  const pool = await createMLPPool({ spec: c.spec, threads: 2, minSplitBytes: 0, adaptiveSplit: false });
  const internals = pool as unknown as { blockHeld: Promise<unknown> | undefined };
  const xs = Array.from({ length: 3 * 67 }, (_, i) => Math.sin(i));
  let release = () => {};
  internals.blockHeld = new Promise<void>((resolve) => (release = resolve));
  let done = false;
  const batch = pool.forwardBatch(xs).then((result) => ((done = true), result));
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.not.ok(done, "the batch ran while the block was held");
  internals.blockHeld = undefined;
  release();
  same(await batch, pool.network.forwardBatch(xs), "the batch after the hold");
  // A real split call leaves no hold behind.
  await pool.jacobian(c.x);
  assert.is(internals.blockHeld, undefined);
  await pool.dispose();
});

test("errors reject as MLP's do and leave the pool working; E_DISPOSED after dispose", async () => {
  const c = randomCase([5, 17, 3], "tanh", "f64", 7700);
  const pool = await createMLPPool({ spec: c.spec, threads: 2, minSplitBytes: 0, adaptiveSplit: false });
  await rejectsCode(pool.jacobian([1, 2, 3]), "E_INPUT", /x: expected 5 numbers \(n_1\), got 3/);
  await rejectsCode(pool.jacobian([1, 2, NaN, 4, 5]), "E_NONFINITE", /x\[2\] is NaN/);
  await rejectsCode(pool.jacobian(null as never), "E_INPUT");
  await rejectsCode(pool.jacobian(c.x, new Float64Array(5) as never), "E_OUTPUT", /expected length 15 \(n_L × n_1\), got 5/);
  await rejectsCode(pool.jacobian(c.x, new Float32Array(15) as never), "E_OUTPUT", /Float64Array/);
  await rejectsCode(pool.gradientOf(c.x, 0, new Float64Array(4) as never), "E_OUTPUT", /expected length 5/);
  await rejectsCode(pool.gradientOf(c.x, 0, undefined, { logit: 1 } as never), "E_OPTIONS", /logit/);
  await rejectsCode(pool.gradientOf([1, Infinity, 3, 4, 5], 0), "E_NONFINITE", /x\[1\] is Infinity/);
  // The same errors as one thread's.
  for (const [direct, call] of [
    [() => pool.network.gradientOf(c.x, 3), () => pool.gradientOf(c.x, 3)],
    [() => pool.network.gradientOf(c.x, 0.5), () => pool.gradientOf(c.x, 0.5)],
    [() => pool.network.jacobian([1]), () => pool.jacobian([1])],
  ] as const) {
    let want: { code?: string; message?: string } = {};
    try {
      direct();
    } catch (error) {
      want = error as MLPError;
    }
    const got = await rejectsCode(call(), want.code ?? "none");
    assert.is(got.message, want.message);
  }
  same(await pool.jacobian(c.x), pool.network.jacobian(c.x), "after the errors");
  await pool.dispose();
  await rejectsCode(pool.jacobian(c.x), "E_DISPOSED", /createMLPPool/);
  await rejectsCode(pool.gradientOf(c.x, 0), "E_DISPOSED");
});

test("a worker that dies during a split Jacobian: no deadlock, the call is right or E_WORKER, the pool carries on (and its batch block is free)", async () => {
  for (const threads of [2, 3]) {
    const c = randomCase([301, 515, 257, 17], "sigmoid", "f64", 7900 + threads);
    const pool = await createMLPPool({ spec: c.spec, threads, minSplitBytes: 0, adaptiveSplit: false });
    const one = single.createMLP(c.spec);
    const expected = one.jacobian(c.x);
    // White box, as split.test.ts: a job the worker's handler throws on (m = -1) kills the thread.
    const worker = (pool as unknown as { workers: { run(job: object): Promise<unknown> }[] }).workers[0];
    const killed = worker.run({ id: 1e9, kind: "gradient", xs: new Float64Array(1), m: -1, rowBase: 0 });
    killed.catch(() => {});
    try {
      same(await pool.jacobian(c.x), expected, `during the death (${threads} threads)`);
    } catch (error) {
      assert.is((error as { code?: string }).code, "E_WORKER", String(error));
    }
    await rejectsCode(killed, "E_WORKER");
    assert.is(pool.threads, threads - 1);
    same(await pool.jacobian(c.x), expected, `after losing a worker (${threads} threads)`);
    const xs = Array.from({ length: 2 * 301 }, (_, i) => Math.cos(i));
    same(await pool.forwardBatch(xs), one.forwardBatch(xs), "a batch after it");
    one.dispose();
    await pool.dispose();
  }
});

test("adaptiveSplit: the Jacobian is timed apart from the gradient-like calls; results never change", async () => {
  const c = randomCase([67, 257, 17, 10], "tanh", "f32", 7800);
  const pool = await createMLPPool({ spec: c.spec, threads: 2, minSplitBytes: 0 });
  const expected = pool.network.jacobian(c.x);
  const timing = (pool as unknown as { timing: Record<"gradient" | "jacobian", { times: [number[], number[]] }> }).timing;
  for (let i = 0; i < 12; i++) same(await pool.jacobian(c.x), expected, `call ${i}`);
  assert.ok(timing.jacobian.times[0].length >= 3 && timing.jacobian.times[1].length >= 3, "both ways were timed");
  assert.is(timing.gradient.times[0].length + timing.gradient.times[1].length, 0, "not as gradient calls");
  timing.jacobian.times[0].splice(0, 8, 1, 1, 1, 1, 1, 1, 1, 1);
  timing.jacobian.times[1].splice(0, 8, 9, 9, 9, 9, 9, 9, 9, 9);
  assert.is(pool.jacobianThreads, 1);
  assert.is(pool.splitThreads, 2, "the gradient's choice is its own");
  await pool.dispose();
});

test.run();
