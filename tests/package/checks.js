// The checks every packaging test runs on `mlpgrad` as a user gets it (the packed tarball, installed,
// then bundled or imported by a runtime): gradients of an f64 and an f32 network against a plain-f64
// reference computed here, a batch, and a pool. Plain JavaScript with no imports: it is copied into each
// temporary project by scripts/package-tests.mjs and bundled with the application.

// Odd sizes: SIMD loops run several iterations and a scalar tail.
const SIZES = [7, 17, 5, 1];
const ACTIVATIONS = ["tanh", "sigmoid", "identity"];

/** Deterministic weights in [−0.5, 0.5) (a linear congruential generator: the same on every runtime). */
function numbers(count, seed) {
  const out = [];
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out.push(state / 2 ** 32 - 0.5);
  }
  return out;
}

/** The network as an MLPSpec: W^[l] row-major n_l × n_{l−1}. */
export function spec(precision) {
  const layers = [];
  for (let l = 1; l < SIZES.length; l++) {
    layers.push({
      weights: numbers(SIZES[l] * SIZES[l - 1], 11 * l),
      bias: numbers(SIZES[l], 13 * l),
    });
  }
  return { sizes: SIZES, precision, activations: ACTIVATIONS, layers };
}

const act = {
  tanh: [Math.tanh, (z) => 1 - Math.tanh(z) ** 2],
  sigmoid: [(z) => 1 / (1 + Math.exp(-z)), (z) => Math.exp(-z) / (1 + Math.exp(-z)) ** 2],
  identity: [(z) => z, () => 1],
};

/** ∇ₓ a^[L](x) in plain f64: the forward pass keeping σ'(z^[l]), then g^[l−1] = (W^[l])ᵀ (σ'(z^[l]) ∘ g^[l]). */
export function referenceGradient(network, x) {
  const derivs = [];
  let a = Array.from(x);
  network.layers.forEach((layer, i) => {
    const rows = network.sizes[i + 1];
    const cols = network.sizes[i];
    const [f, df] = act[network.activations[i]];
    const z = [];
    for (let r = 0; r < rows; r++) {
      let sum = layer.bias[r];
      for (let c = 0; c < cols; c++) sum += layer.weights[r * cols + c] * a[c];
      z.push(sum);
    }
    derivs.push(z.map(df));
    a = z.map(f);
  });
  let g = [1];
  for (let l = network.layers.length - 1; l >= 0; l--) {
    const rows = network.sizes[l + 1];
    const cols = network.sizes[l];
    const w = network.layers[l].weights;
    const next = new Array(cols).fill(0);
    for (let r = 0; r < rows; r++) {
      const d = derivs[l][r] * g[r];
      for (let c = 0; c < cols; c++) next[c] += w[r * cols + c] * d;
    }
    g = next;
  }
  return g;
}

/** The largest |a_i − b_i| / max(1, |b_i|), and whether the lengths agree. */
function worst(actual, expected) {
  if (actual.length !== expected.length) return Infinity;
  let max = 0;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    if (!(error <= max)) max = Number.isNaN(error) ? Infinity : error;
  }
  return max;
}

/**
 * Runs the checks with the imported package `mlpgrad`; returns [{ name, ok, message }].
 * options.threads: 2 to demand a pool of two threads (cross-origin isolated pages, Node, Deno, Bun),
 * 1 where the runtime has no threads (Workers: the pool must run on one thread and say why).
 * options.workerUrl: passed to createMLPPool. options.expectFallbackWithoutUrl: the pool without
 * workerUrl must fall back to one thread with a fallbackReason that names the worker script.
 */
export async function runChecks(mlpgrad, options = {}) {
  const results = [];
  const check = async (name, body) => {
    try {
      const message = await body();
      results.push({ name, ok: true, message });
    } catch (error) {
      results.push({ name, ok: false, message: `${error?.code ? `${error.code}: ` : ""}${error?.message ?? String(error)}` });
    }
  };
  const expectClose = (actual, expected, tolerance, what) => {
    const error = worst(Array.from(actual), expected);
    if (!(error <= tolerance)) throw new Error(`${what}: worst relative error ${error} > ${tolerance}`);
    return `${what}: worst relative error ${error.toExponential(1)}`;
  };
  const m = 67;
  const xs = numbers(m * SIZES[0], 99);
  const row = (i) => xs.slice(i * SIZES[0], (i + 1) * SIZES[0]);
  const f64 = spec("f64");
  const expectedRows = Array.from({ length: m }, (_, i) => referenceGradient(f64, row(i))).flat();

  await check("init() and a gradient of an f64 network equal the f64 reference", async () => {
    await mlpgrad.init();
    const net = mlpgrad.createMLP(f64);
    const text = expectClose(net.gradient(row(0)), referenceGradient(f64, row(0)), 1e-12, "f64");
    net.dispose();
    return text;
  });
  await check("a gradient of an f32 network is within f32 rounding of the f64 reference", async () => {
    const f32 = spec("f32");
    const net = mlpgrad.createMLP(f32);
    const text = expectClose(net.gradient(row(1)), referenceGradient(f32, row(1)), 2e-5, "f32");
    net.dispose();
    return text;
  });
  await check(`gradientBatch of ${m} rows equals the reference row by row`, async () => {
    const net = mlpgrad.createMLP(f64);
    const text = expectClose(net.gradientBatch(xs), expectedRows, 1e-12, "batch");
    net.dispose();
    return text;
  });
  const threads = options.threads ?? 2;
  if (options.expectFallbackWithoutUrl) {
    await check("without workerUrl the pool runs on one thread, and fallbackReason names the worker script", async () => {
      const pool = await mlpgrad.createMLPPool({ spec: f64, threads: 2, minRowsPerThread: 1 });
      try {
        if (pool.threads !== 1) throw new Error(`expected 1 thread, got ${pool.threads}`);
        const reason = pool.fallbackReason ?? "";
        if (!/pool-worker\.js/.test(reason) || !/workerUrl/.test(reason)) throw new Error(`fallbackReason does not name the script and workerUrl: ${reason}`);
        expectClose(await pool.gradientBatch(xs), expectedRows, 1e-12, "fallback pool");
        return reason;
      } finally {
        await pool.dispose();
      }
    });
  }
  await check(`createMLPPool runs ${threads} thread${threads === 1 ? "" : "s"}${options.workerUrl ? ` (workerUrl ${options.workerUrl})` : ""} and its batches equal the reference`, async () => {
    const pool = await mlpgrad.createMLPPool({ spec: f64, threads: 2, minRowsPerThread: 1, ...(options.workerUrl ? { workerUrl: options.workerUrl } : {}) });
    try {
      if (pool.threads !== threads) throw new Error(`expected ${threads} threads, got ${pool.threads} (fallbackReason: ${pool.fallbackReason})`);
      if (threads === 1 && !pool.fallbackReason) throw new Error("one thread, but no fallbackReason");
      // 200 rows: rows 0–63 on the main thread, 64–199 on the worker.
      const many = numbers(200 * SIZES[0], 7);
      const expected = Array.from({ length: 200 }, (_, i) => referenceGradient(f64, many.slice(i * SIZES[0], (i + 1) * SIZES[0]))).flat();
      return `${expectClose(await pool.gradientBatch(many), expected, 1e-12, "pool")}${pool.fallbackReason ? `; ${pool.fallbackReason}` : ""}`;
    } finally {
      await pool.dispose();
    }
  });
  if (threads === 2) {
    await check("a workerUrl that does not load: the pool runs on one thread and fallbackReason names that URL", async () => {
      const workerUrl = "./no-such-dir/no-such-worker.js";
      const pool = await mlpgrad.createMLPPool({ spec: f64, threads: 2, minRowsPerThread: 1, workerUrl });
      try {
        if (pool.threads !== 1) throw new Error(`expected 1 thread, got ${pool.threads}`);
        if (!(pool.fallbackReason ?? "").includes(workerUrl)) throw new Error(`fallbackReason does not name ${workerUrl}: ${pool.fallbackReason}`);
        expectClose(await pool.gradientBatch(xs), expectedRows, 1e-12, "fallback pool");
        return pool.fallbackReason;
      } finally {
        await pool.dispose();
      }
    });
  }
  return results;
}
