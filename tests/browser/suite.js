// The browser suite: the built bundle (dist/mlpgrad.js, wasm embedded) checked in a real browser, the same
// file run on the page's main thread and in a module Web Worker (page.js, worker.js).
//
// Plain JavaScript, served as is: the page imports exactly what a user's bundler or <script type=module>
// would, with no TypeScript step in between. Each check is { name, ok, message }; runSuite never throws,
// so one failure never hides the others. The oracle is the small f64 reference below (plain loops,
// written from the recurrence, sharing no code with src/ or assembly/) and central finite differences.
import * as mlpgrad from "../../dist/mlpgrad.js";

const { init, createEngine, createMLP, hasSimd, hasRelaxedSimd, hasThreads, MLPError } = mlpgrad;

// ── The reference: a^[1] = x, z^[l] = W^[l] a^[l−1] + b^[l], a^[l] = σ(z^[l]); vᵀJ by the reverse loop
//    g^[L] = v ⊙ σ'(z^[L]),  g^[l] = ((W^[l+1])ᵀ g^[l+1]) ⊙ σ'(z^[l]),  vᵀJ = (W^[2])ᵀ g^[2].

const SIGMA = {
  identity: (z) => z,
  sigmoid: (z) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z))),
  tanh: (z) => Math.tanh(z),
  relu: (z) => (z > 0 ? z : 0),
  leakyRelu: (z) => (z > 0 ? z : 0.01 * z),
  softplus: (z) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))),
};
const SIGMA_PRIME = {
  identity: () => 1,
  sigmoid: (z) => 1 / (Math.exp(z) + 2 + Math.exp(-z)),
  tanh: (z) => 1 / (Math.cosh(z) * Math.cosh(z)),
  relu: (z) => (z > 0 ? 1 : 0),
  leakyRelu: (z) => (z > 0 ? 1 : 0.01),
  softplus: (z) => SIGMA.sigmoid(z),
};

/** z^[l] and a^[l] of every layer (index 0 is the input). W[l][j][k] is row j, column k of W^[l+2]. */
function refForwardAll(net, x) {
  const as = [Array.from(x)];
  const zs = [[]];
  for (let l = 0; l < net.W.length; l++) {
    const z = [];
    const a = [];
    for (let j = 0; j < net.W[l].length; j++) {
      let sum = net.b[l][j];
      for (let k = 0; k < net.W[l][j].length; k++) sum += net.W[l][j][k] * as[l][k];
      z.push(sum);
      a.push(SIGMA[net.activations[l]](sum));
    }
    zs.push(z);
    as.push(a);
  }
  return { zs, as };
}

function refForward(net, x) {
  const { as } = refForwardAll(net, x);
  return as[as.length - 1];
}

function refVjp(net, x, v) {
  const { zs } = refForwardAll(net, x);
  const L = net.W.length;
  let g = zs[L].map((z, j) => v[j] * SIGMA_PRIME[net.activations[L - 1]](z));
  for (let l = L - 1; l >= 0; l--) {
    const cols = net.W[l][0].length;
    const h = new Array(cols).fill(0);
    for (let j = 0; j < g.length; j++) for (let k = 0; k < cols; k++) h[k] += net.W[l][j][k] * g[j];
    g = l === 0 ? h : h.map((s, k) => s * SIGMA_PRIME[net.activations[l - 1]](zs[l][k]));
  }
  return g;
}

const refGradient = (net, x) => refVjp(net, x, [1]);

/** Row-major n_L × n_1: row k is ∇ₓ a_k^[L]. */
function refJacobian(net, x) {
  const nL = net.W[net.W.length - 1].length;
  const rows = [];
  for (let k = 0; k < nL; k++) rows.push(...refVjp(net, x, Array.from({ length: nL }, (_, i) => (i === k ? 1 : 0))));
  return rows;
}

/** (f(x + h eᵢ) − f(x − h eᵢ)) / 2h for every i, f scalar. */
function centralDifferences(f, x, h = 1e-6) {
  return Array.from(x, (_, i) => {
    const plus = Array.from(x);
    const minus = Array.from(x);
    plus[i] += h;
    minus[i] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });
}

// ── Random networks, seeded so a failure can be replayed.

/** mulberry32 */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A network with W ~ U(−1, 1)·√(3/n_{l−1}), b ~ U(−0.1, 0.1), and `count` inputs x ~ U(−1, 1). For f32 every
 * number is rounded to f32 first, so the f64 reference describes exactly the network the library holds.
 */
function randomCase(sizes, activations, precision, seed, count = 1) {
  const random = rng(seed);
  const round = precision === "f32" ? Math.fround : (v) => v;
  const uniform = (scale) => round((random() * 2 - 1) * scale);
  const W = [];
  const b = [];
  for (let l = 1; l < sizes.length; l++) {
    const scale = Math.sqrt(3 / sizes[l - 1]);
    W.push(Array.from({ length: sizes[l] }, () => Array.from({ length: sizes[l - 1] }, () => uniform(scale))));
    b.push(Array.from({ length: sizes[l] }, () => uniform(0.1)));
  }
  const xs = Array.from({ length: count }, () => Array.from({ length: sizes[0] }, () => uniform(1)));
  const spec = { sizes, activations, precision, layers: W.map((rows, i) => ({ weights: rows.flat(), bias: b[i] })) };
  return { spec, ref: { sizes, activations, W, b }, x: xs[0], xs };
}

// ── Comparisons that say where they failed.

const TOL = { f64: 1e-12, f32: 1e-4 };

function norm(v) {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  return Math.sqrt(sum);
}

/** Throws unless ‖actual − expected‖ ≤ tol·‖expected‖ (absolute when expected is 0); names the worst index. */
function closeTo(actual, expected, tol, what) {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  let worst = 0;
  const diff = [];
  for (let i = 0; i < actual.length; i++) {
    if (!Number.isFinite(actual[i])) throw new Error(`${what}[${i}] is ${actual[i]}, expected ${expected[i]}`);
    diff.push(actual[i] - expected[i]);
    if (Math.abs(diff[i]) > Math.abs(diff[worst])) worst = i;
  }
  const scale = norm(expected);
  const error = scale === 0 ? norm(diff) : norm(diff) / scale;
  if (!(error <= tol)) {
    throw new Error(`${what}: relative error ${error.toExponential(2)} > ${tol}; worst at [${worst}]: got ${actual[worst]}, expected ${expected[worst]}`);
  }
}

/** Throws unless the two arrays hold the same numbers bit for bit (same type too). */
function sameBits(actual, expected, what) {
  if (actual.constructor !== expected.constructor) throw new Error(`${what}: ${actual.constructor.name}, expected ${expected.constructor.name}`);
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) throw new Error(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (bit for bit)`);
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Throws unless fn throws (or rejects with) an MLPError with this code; returns the error. */
async function expectCode(fn, code, ...fields) {
  let error;
  try {
    await fn();
  } catch (caught) {
    error = caught;
  }
  if (error === undefined) throw new Error(`expected an MLPError ${code}, nothing was thrown`);
  if (!(error instanceof MLPError)) throw new Error(`expected an MLPError ${code}, got ${error?.name}: ${error?.message}`);
  if (error.code !== code) throw new Error(`expected code ${code}, got ${error.code}: ${error.message}`);
  for (const [key, value] of fields) {
    if (value instanceof RegExp ? !value.test(error[key]) : error[key] !== value) {
      throw new Error(`${code}: expected ${key} ${value}, got ${String(error[key])} (${error.message})`);
    }
  }
  return error;
}

// ── The suite.

// Odd widths, so every SIMD loop runs several vectors and the padded tail.
const SHAPES = [
  { sizes: [7, 17, 5, 1], activations: ["tanh", "softplus", "sigmoid"] },
  { sizes: [67, 8, 1], activations: ["leakyRelu", "sigmoid"] },
];
const JACOBIAN_SHAPE = { sizes: [7, 17, 5, 3], activations: ["sigmoid", "tanh", "identity"] };
// 70 rows: one full block of 64 inputs and a tail of 6.
const BATCH_ROWS = 70;

/**
 * Runs every check in this context ("page" or "worker") and resolves to
 * { where, env, results: [{ name, ok, message? }] }. Never rejects.
 */
export async function runSuite(where) {
  const results = [];
  const run = async (name, body) => {
    try {
      await body();
      results.push({ name: `${where}: ${name}`, ok: true });
    } catch (error) {
      // The message and the line that threw, not the whole stack.
      const at = /^\s+at .*$/m.exec(String(error?.stack ?? ""))?.[0].trim();
      results.push({ name: `${where}: ${name}`, ok: false, message: `${error?.message ?? error}${at === undefined ? "" : ` (${at})`}` });
    }
  };
  const env = {
    where,
    userAgent: globalThis.navigator?.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer === "function",
    hardwareConcurrency: globalThis.navigator?.hardwareConcurrency,
  };

  const engines = [];
  await run("init() resolves to one engine for concurrent calls, on the relaxed-SIMD build (Chromium validates relaxed SIMD)", async () => {
    const [a, b] = await Promise.all([init(), init()]);
    check(a === b, "two concurrent init() calls gave two engines");
    check(a === (await init()), "a later init() gave another engine");
    env.simd = hasSimd();
    check(env.simd === true, "hasSimd() is false in Chromium");
    check(a.simd === true, `init() chose the ${a.simd ? "SIMD" : "scalar"} build`);
    env.relaxed = hasRelaxedSimd();
    check(env.relaxed === true, "hasRelaxedSimd() is false in Chromium");
    check(a.relaxed === true, "init() did not choose the relaxed build (engine.relaxed is false)");
    engines.push({ name: "relaxed", engine: a });
  });
  await run("createEngine({ relaxed: false }) runs the plain SIMD build (dist/mlpgrad.relaxed.js was loaded only for the relaxed one)", async () => {
    const simd = await createEngine({ relaxed: false });
    check(simd.simd === true && simd.relaxed === false, `engine.simd ${simd.simd}, engine.relaxed ${simd.relaxed}`);
    engines.push({ name: "simd", engine: simd });
  });
  await run("createEngine({ simd: false }) runs the scalar build, apart from the default engine", async () => {
    const scalar = await createEngine({ simd: false });
    check(scalar.simd === false, "engine.simd is true");
    check(scalar !== (await init()), "it returned the default engine");
    engines.push({ name: "scalar", engine: scalar });
  });

  let seed = 1;
  for (const shape of SHAPES) {
    const label = `[${shape.sizes.join(", ")}] ${shape.activations.join("/")}`;
    for (const precision of ["f32", "f64"]) {
      const c = randomCase(shape.sizes, shape.activations, precision, seed++, BATCH_ROWS);
      const ArrayType = precision === "f32" ? Float32Array : Float64Array;
      const expected = refGradient(c.ref, c.x);
      for (const { name, engine } of engines) {
        await run(`${name} ${precision} ${label}: gradient, forward and valueAndGradient match the f64 reference`, () => {
          const net = engine.createMLP(c.spec);
          try {
            const gradient = net.gradient(c.x);
            check(gradient instanceof ArrayType, `gradient is a ${gradient.constructor.name}`);
            closeTo(gradient, expected, TOL[precision], "gradient");
            const out = new ArrayType(c.x.length);
            check(net.gradient(c.x, out) === out, "gradient(x, out) did not return out");
            sameBits(out, gradient, "gradient(x, out)");
            closeTo(net.forward(c.x), refForward(c.ref, c.x), TOL[precision], "forward");
            const both = net.valueAndGradient(c.x);
            closeTo([both.value], refForward(c.ref, c.x), TOL[precision], "valueAndGradient value");
            sameBits(both.gradient, gradient, "valueAndGradient gradient");
          } finally {
            net.dispose();
          }
        });
        await run(`${name} ${precision} ${label}: gradientBatch and forwardBatch of ${BATCH_ROWS} inputs match the reference row by row`, () => {
          const net = engine.createMLP(c.spec);
          try {
            const n1 = shape.sizes[0];
            const grads = net.gradientBatch(c.xs.flat());
            const values = net.forwardBatch(c.xs.flat());
            check(grads.length === BATCH_ROWS * n1, `gradientBatch gave ${grads.length} numbers`);
            c.xs.forEach((x, i) => {
              closeTo(grads.subarray(i * n1, (i + 1) * n1), refGradient(c.ref, x), TOL[precision], `gradientBatch row ${i}`);
              closeTo([values[i]], refForward(c.ref, x), TOL[precision], `forwardBatch row ${i}`);
            });
          } finally {
            net.dispose();
          }
        });
      }
      if (precision === "f64") {
        await run(`f64 ${label}: gradient matches central differences of the library's own forward (h = 1e-6)`, () => {
          const net = createMLP(c.spec);
          try {
            const fd = centralDifferences((x) => net.forward(x)[0], c.x);
            closeTo(net.gradient(c.x), fd, 1e-7, "gradient vs finite differences");
            closeTo(expected, fd, 1e-7, "reference vs finite differences");
          } finally {
            net.dispose();
          }
        });
      }
    }
  }

  for (const precision of ["f32", "f64"]) {
    await run(`${precision} [${JACOBIAN_SHAPE.sizes.join(", ")}]: jacobian matches the reference and central differences`, () => {
      const c = randomCase(JACOBIAN_SHAPE.sizes, JACOBIAN_SHAPE.activations, precision, seed++);
      const net = createMLP(c.spec);
      try {
        const J = net.jacobian(c.x);
        closeTo(J, refJacobian(c.ref, c.x), TOL[precision], "jacobian");
        if (precision === "f64") {
          const n1 = c.x.length;
          for (let k = 0; k < 3; k++) {
            const fd = centralDifferences((x) => net.forward(x)[k], c.x);
            closeTo(J.subarray(k * n1, (k + 1) * n1), fd, 1e-7, `jacobian row ${k} vs finite differences`);
          }
        }
      } finally {
        net.dispose();
      }
    });
  }

  await run("errors are MLPErrors with the right code and fields", async () => {
    const spec = { sizes: [2, 3, 1], layers: [{ weights: [1, 2, 3, 4, 5], bias: [0, 0, 0] }, { weights: [1, 1, 1], bias: [0] }] };
    const shape = await expectCode(() => createMLP(spec), "E_SHAPE", ["layer", 2], ["expected", 6], ["actual", 5]);
    check(shape.name === "MLPError" && shape instanceof Error, "MLPError is not an Error named MLPError");
    const net = createMLP({ sizes: [2, 1], precision: "f64", layers: [{ weights: [2, -3], bias: [0.5] }] });
    await expectCode(() => net.gradient([1, 2, 3]), "E_INPUT", ["message", /x: expected 2 numbers/]);
    await expectCode(() => net.gradient([1, NaN]), "E_NONFINITE");
    await expectCode(() => net.gradient([1, 2], new Float32Array(2)), "E_OUTPUT");
    await expectCode(() => net.gradientBatch([1, 2, 3]), "E_INPUT");
    net.dispose();
    await expectCode(() => net.gradient([1, 2]), "E_DISPOSED");
    const wide = createMLP({ sizes: [2, 2], layers: [{ weights: [1, 2, 3, 4], bias: [0, 0] }] });
    await expectCode(() => wide.gradient([1, 2]), "E_NOT_SCALAR");
    wide.dispose();
    await expectCode(() => createMLP({ sizes: [2, 1], precision: "f16", layers: [{ weights: [1, 1], bias: [0] }] }), "E_PRECISION");
    await expectCode(() => createEngine({ source: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1]) }), "E_SOURCE");
  });

  if (typeof mlpgrad.createMLPPool !== "function") {
    env.pool = "createMLPPool is not in this bundle";
  } else if (!env.crossOriginIsolated) {
    env.pool = "not cross-origin isolated: checked the one-thread fallback";
    await run("without cross-origin isolation, hasThreads() is false and createMLPPool runs on one thread and says why", async () => {
      check(hasThreads() === false, "hasThreads() is true");
      const c = randomCase([67, 8, 1], ["tanh", "sigmoid"], "f64", 99, 300);
      const pool = await mlpgrad.createMLPPool({ spec: c.spec, threads: 2, minRowsPerThread: 64 });
      try {
        check(pool.threads === 1, `pool.threads is ${pool.threads}`);
        check(/cross-origin isolated/.test(pool.fallbackReason ?? ""), `fallbackReason does not name the cause: ${pool.fallbackReason}`);
        const grads = await pool.gradientBatch(c.xs.flat());
        for (const i of [0, 299]) closeTo(grads.subarray(i * 67, (i + 1) * 67), refGradient(c.ref, c.xs[i]), TOL.f64, `pool row ${i}`);
      } finally {
        await pool.dispose();
      }
      await expectCode(() => mlpgrad.createMLPPool({ spec: c.spec, threads: 2, requireThreads: true }), "E_NO_THREADS", ["message", /Cross-Origin-Opener-Policy/]);
    });
  } else {
    env.pool = "checked with 2 threads";
    await run("hasThreads() is true where the context is cross-origin isolated", () => check(hasThreads() === true, "hasThreads() is false"));
    for (const precision of ["f32", "f64"]) {
      // 300 rows = 5 blocks of 64; minRowsPerThread 64 makes the pool split even this small network.
      const m = 300;
      const c = randomCase([67, 8, 1], ["tanh", "sigmoid"], precision, 100 + seed++, m);
      const xs = c.xs.flat();
      await run(`${precision} [67, 8, 1]: a pool of 2 threads gives one thread's results bit for bit (${m} rows)`, async () => {
        const pool = await mlpgrad.createMLPPool({ spec: c.spec, threads: 2, requireThreads: true, minRowsPerThread: 64 });
        const single = createMLP(c.spec);
        try {
          check(pool.threads === 2, `pool.threads is ${pool.threads} (${pool.fallbackReason})`);
          check(pool.fallbackReason === undefined, `fallbackReason: ${pool.fallbackReason}`);
          // Both on the relaxed build: the pool's threads build is derived from the relaxed bytes.
          check((await init()).relaxed === true, "the default engine is not the relaxed build");
          const grads = await pool.gradientBatch(xs);
          sameBits(grads, pool.network.gradientBatch(xs), "pool.gradientBatch vs pool.network.gradientBatch");
          sameBits(grads, single.gradientBatch(xs), "pool.gradientBatch vs a network on the default engine");
          const out = new (precision === "f32" ? Float32Array : Float64Array)(m);
          check((await pool.forwardBatch(xs, out)) === out, "forwardBatch(xs, out) did not resolve to out");
          sameBits(out, single.forwardBatch(xs), "pool.forwardBatch");
          const both = await pool.valueAndGradientBatch(xs);
          sameBits(both.values, out, "valueAndGradientBatch values");
          sameBits(both.gradients, grads, "valueAndGradientBatch gradients");
          for (const i of [0, 63, 64, 200, m - 1]) closeTo(grads.subarray(i * 67, (i + 1) * 67), refGradient(c.ref, c.xs[i]), TOL[precision], `pool row ${i}`);
          // Rows 128–299 run on the worker; its error still names the row of the whole batch.
          const bad = xs.slice();
          bad[250 * 67 + 3] = NaN;
          await expectCode(() => pool.gradientBatch(bad), "E_NONFINITE", ["message", /\(row 250, column 3\) is NaN/]);
          check(pool.threads === 2, "a bad input cost the pool a worker");
        } finally {
          single.dispose();
          await pool.dispose();
        }
        await expectCode(() => pool.gradientBatch(xs), "E_DISPOSED");
      });
      // One input split across the threads (src/split.ts): on a page the main thread cannot block, so it spins.
      const d = randomCase([67, 257, 5, 1], ["sigmoid", "gelu", "tanh"], precision, 200 + seed++, 3);
      await run(`${precision} [67, 257, 5, 1]: pool.gradient, valueAndGradient and vjp split over 2 and 3 threads equal one thread bit for bit`, async () => {
        const single = createMLP(d.spec);
        for (const threads of [2, 3]) {
          const pool = await mlpgrad.createMLPPool({ spec: d.spec, threads, requireThreads: true, minSplitBytes: 0, adaptiveSplit: false });
          try {
            check(pool.splitThreads === threads, `pool.splitThreads is ${pool.splitThreads}`);
            for (const x of d.xs) {
              sameBits(await pool.gradient(x), single.gradient(x), `pool.gradient (${threads} threads)`);
              const both = await pool.valueAndGradient(x);
              check(Object.is(both.value, single.valueAndGradient(x).value), "valueAndGradient value");
              sameBits(both.gradient, single.gradient(x), "valueAndGradient gradient");
              sameBits(await pool.vjp(x, [0.5]), single.vjp(x, [0.5]), "vjp");
            }
            await expectCode(() => pool.gradient([1, 2]), "E_INPUT");
          } finally {
            await pool.dispose();
          }
        }
        single.dispose();
      });
      // The Jacobian split too: 17 outputs (two rounds of columns), 67 and 257 features (part of a tile at the end).
      const jc = randomCase([67, 257, 67, 17], ["tanh", "sigmoid", "gelu"], precision, 300 + seed++, 2);
      await run(`${precision} [67, 257, 67, 17]: pool.jacobian and gradientOf split over 2 and 3 threads equal one thread bit for bit`, async () => {
        const single = createMLP(jc.spec);
        for (const threads of [2, 3]) {
          const pool = await mlpgrad.createMLPPool({ spec: jc.spec, threads, requireThreads: true, minSplitBytes: 0, adaptiveSplit: false });
          try {
            check(pool.jacobianThreads === threads, `pool.jacobianThreads is ${pool.jacobianThreads}`);
            for (const x of jc.xs) {
              for (let call = 0; call < 3; call++) sameBits(await pool.jacobian(x), single.jacobian(x), `pool.jacobian (${threads} threads)`);
              sameBits(await pool.gradientOf(x, 16), single.gradientOf(x, 16), `pool.gradientOf (${threads} threads)`);
            }
            await expectCode(() => pool.jacobian([1, 2]), "E_INPUT");
          } finally {
            await pool.dispose();
          }
        }
        single.dispose();
      });
    }
  }
  return { where, env, results };
}
