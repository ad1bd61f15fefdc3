// A Cloudflare Worker (module syntax) that uses mlpgrad as an application would: `import … from "mlpgrad"`,
// which config.capnp maps to the workerd entry, dist/mlpgrad.workerd.js, as the package's "workerd"
// export condition does for wrangler. On a request it runs the library and answers with JSON that
// scripts/edge-tests.mjs checks in Node against an independent f64 reference and central differences.
import * as mlpgrad from "mlpgrad";
// The main bundle (kernels embedded as base64, compiled from bytes), only to show that workerd refuses it.
import * as embedded from "mlpgrad-embedded";
import models from "./models.json";

// The smallest valid module: magic and version.
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/** "refused: …" or "allowed": whether this runtime compiles WebAssembly from bytes. */
async function compileFromBytes(compile) {
  try {
    await compile();
    return "allowed";
  } catch (error) {
    return `refused: ${error.message}`;
  }
}

/** { code, message } of a failed call, or { code: null } when it succeeded. */
async function failure(call) {
  try {
    await call();
    return { code: null };
  } catch (error) {
    return { code: error.code ?? error.name, message: error.message };
  }
}

/** m × n deterministic inputs in [-1.5, 1.5), flat row-major (a 32-bit LCG, so rows do not repeat). */
function points(m, n) {
  const xs = new Float64Array(m * n);
  let state = 12345;
  for (let i = 0; i < xs.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    xs[i] = 3 * (state / 2 ** 32) - 1.5;
  }
  return xs;
}

async function run() {
  const { init, createMLP, createEngine, grad, createMLPPool, hasSimd, hasThreads } = mlpgrad;
  const started = Date.now();
  // Three concurrent first calls and one later call must give one engine.
  const engines = await Promise.all([init(), init(), init()]);
  const engine = await init();
  const initMs = Date.now() - started;

  const scalar = createMLP(models.scalar);
  const grid = points(5, 3);
  const singles = Array.from({ length: 5 }, (_, i) => [...grid.subarray(3 * i, 3 * i + 3)]);
  const gradient = singles.map((x) => ({ x, value: scalar.forward(x)[0], gradient: [...scalar.gradient(x)] }));
  const out = new Float64Array(3);
  const returnsOut = scalar.gradient(singles[0], out) === out;

  // 70 rows: one full block of 64 and a tail of 6.
  const xs = points(70, 3);
  const batch = { xs: [...xs], gradients: [...scalar.gradientBatch(xs)] };
  const valueAndGradientBatch = scalar.valueAndGradientBatch(xs);

  const two = createMLP(models.twoOutputs);
  const jacobian = singles.slice(0, 3).map((x) => ({ x, forward: [...two.forward(x)], jacobian: [...two.jacobian(x)] }));

  const df = await grad(models.scalar);
  const separate = await createEngine();
  const pool = await createMLPPool({ spec: models.scalar, threads: 2 });
  const poolGradients = await pool.gradientBatch(xs);
  await pool.dispose();

  return {
    userAgent: typeof navigator === "object" ? navigator.userAgent : null,
    simd: engine.simd,
    hasSimd: hasSimd(),
    hasThreads: hasThreads(),
    initMs,
    sameEngine: engines.every((e) => e === engine),
    separateEngine: separate !== engine && separate.simd,
    exports: Object.keys(mlpgrad).sort(),
    embeddedExports: Object.keys(embedded).sort(),
    compileFromBytes: {
      compile: await compileFromBytes(() => WebAssembly.compile(EMPTY_MODULE)),
      moduleConstructor: await compileFromBytes(() => new WebAssembly.Module(EMPTY_MODULE)),
      instantiate: await compileFromBytes(() => WebAssembly.instantiate(EMPTY_MODULE)),
    },
    embeddedInit: await failure(() => embedded.init()),
    gradient,
    returnsOut,
    batch,
    valueAndGradientBatch: { values: [...valueAndGradientBatch.values], gradients: [...valueAndGradientBatch.gradients] },
    jacobian,
    grad: { x: singles[1], gradient: [...df(singles[1])] },
    pool: { threads: pool.threads, fallbackReason: pool.fallbackReason ?? null, gradients: [...poolGradients] },
    errors: {
      scalarBuild: await failure(() => init({ simd: false })),
      relaxedBuild: await failure(() => init({ relaxed: true })),
      sharedMemory: await failure(() => createEngine({ shared: true })),
      requireThreads: await failure(() => createMLPPool({ spec: models.scalar, threads: 2, requireThreads: true })),
      badThreads: await failure(() => createMLPPool({ spec: models.scalar, threads: 0 })),
    },
    // init() after the failures above still returns the first engine.
    sameEngineAfterErrors: (await init()) === engine,
  };
}

export default {
  async fetch() {
    try {
      return Response.json(await run());
    } catch (error) {
      return Response.json({ error: `${error.code ?? error.name}: ${error.message}\n${error.stack ?? ""}` }, { status: 500 });
    }
  },
};
