// Edge-runtime tests: runs tests/edge/worker.js in real workerd (the runtime of Cloudflare Workers, from
// the npm package `workerd`), where compiling WebAssembly from bytes is refused, and checks its answer
// here in Node against an independent f64 reference and central differences.
//
//   node scripts/edge-tests.mjs [--skip-if-missing]     (after `npm run build`)
//
// workerd listens on 127.0.0.1 at a port the OS picks (address 127.0.0.1:0), which it reports on
// --control-fd. Ends with "N passed, N failed" and exits non-zero on any failure. Where workerd cannot
// run on this machine it says why and fails, or with --skip-if-missing prints "edge tests skipped: <why>"
// and exits 0.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = new URL("../", import.meta.url);
const path = (relative) => fileURLToPath(new URL(relative, root));
const skipIfMissing = process.argv.includes("--skip-if-missing");
const START_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 20_000;
const REQUEST_ATTEMPTS = 5;
// The reference and the kernels differ only by rounding (summation order); central differences with
// h = 1e-6 are good to about 1e-10 on these O(1) sigmoid networks.
const EXACT_TOL = 1e-12;
const FD_STEP = 1e-6;
const FD_TOL = 1e-8;

let passed = 0;
let failed = 0;
const t0 = performance.now();

function check(name, ok, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`  ${ok ? "✓" : "✘"} ${name}${detail ? ` — ${detail}` : ""}`);
}

function finish() {
  console.log(`\nedge tests: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

function unavailable(reason) {
  if (skipIfMissing) {
    console.log(`edge tests skipped: workerd cannot run on this machine: ${reason}`);
    process.exit(0);
  }
  console.log(`workerd cannot run on this machine: ${reason}; pass --skip-if-missing to skip the edge tests instead`);
  failed++;
  finish();
}

// ---- The independent reference: a^[l] = σ(W^[l] a^[l−1] + b^[l]), and its backward recurrence. ----

const ACTIVATIONS = {
  sigmoid: { f: (z) => 1 / (1 + Math.exp(-z)), df: (z) => Math.exp(-z) / (1 + Math.exp(-z)) ** 2 },
  tanh: { f: Math.tanh, df: (z) => 1 - Math.tanh(z) ** 2 },
};

function activationsOf(spec) {
  const names = typeof spec.activations === "string" ? spec.layers.map(() => spec.activations) : spec.activations;
  return names.map((name) => ACTIVATIONS[name]);
}

/** z^[l] for l = 2..L (index l − 2) and a^[L]. */
function forwardRef(spec, x) {
  const acts = activationsOf(spec);
  const zs = [];
  let a = [...x];
  spec.layers.forEach(({ weights, bias }, i) => {
    const z = weights.map((row, j) => row.reduce((sum, w, k) => sum + w * a[k], bias[j]));
    zs.push(z);
    a = z.map(acts[i].f);
  });
  return { zs, a };
}

/** vᵀ ∂a^[L]/∂x by the backward recurrence g^[l−1] = σ'(z^[l−1]) ∘ (W^[l])ᵀ g^[l], g^[L] = σ'(z^[L]) ∘ v. */
function vjpRef(spec, x, v) {
  const acts = activationsOf(spec);
  const { zs } = forwardRef(spec, x);
  const L = spec.layers.length;
  let g = zs[L - 1].map((z, j) => acts[L - 1].df(z) * v[j]);
  for (let i = L - 1; i >= 0; i--) {
    const weights = spec.layers[i].weights;
    const back = weights[0].map((_, k) => weights.reduce((sum, row, j) => sum + row[k] * g[j], 0));
    g = i > 0 ? back.map((value, k) => acts[i - 1].df(zs[i - 1][k]) * value) : back;
  }
  return g;
}

/** Row k of the Jacobian by central differences: (a_k(x + h eᵢ) − a_k(x − h eᵢ)) / 2h. */
function centralDifferences(spec, x, k) {
  return x.map((_, i) => {
    const plus = [...x];
    const minus = [...x];
    plus[i] += FD_STEP;
    minus[i] -= FD_STEP;
    return (forwardRef(spec, plus).a[k] - forwardRef(spec, minus).a[k]) / (2 * FD_STEP);
  });
}

/** Largest |a_i − b_i|, or Infinity when the lengths differ or a value is missing. */
function maxError(a, b) {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length || a.length === 0) return Infinity;
  return a.reduce((worst, value, i) => Math.max(worst, Number.isFinite(value) ? Math.abs(value - b[i]) : Infinity), 0);
}

const fmt = (error) => (error === Infinity ? "shape mismatch" : `max |Δ| = ${error.toExponential(1)}`);

// ---- Checks that need no workerd: the package points workerd at the right file, which is lean. ----

/** The target of exports["."] for a resolver with these conditions: the first matching key wins. */
function resolveExport(pkg, conditions, target = pkg.exports["."]) {
  if (typeof target === "string" || target === undefined) return target;
  const entry = Object.entries(target).find(([key]) => conditions.includes(key));
  return resolveExport(pkg, conditions, entry?.[1]);
}

const pkg = JSON.parse(readFileSync(path("package.json"), "utf8"));
const models = JSON.parse(readFileSync(path("tests/edge/models.json"), "utf8"));
const built = ["dist/mlpgrad.workerd.js", "dist/mlpgrad.simd.wasm", "dist/mlpgrad.js"];
const missing = built.filter((file) => !existsSync(path(file)));
if (missing.length > 0) {
  console.log(`missing ${missing.join(", ")}: run \`npm run build\` first`);
  failed++;
  finish();
}

console.log("edge runtime (workerd)");
// wrangler bundles with the conditions workerd, worker, browser (then import/default); Node with import.
check(
  'package.json: wrangler\'s conditions resolve "mlpgrad" to the workerd entry, Node\'s to the Node bundle',
  resolveExport(pkg, ["workerd", "worker", "browser", "import", "default"]) === "./dist/mlpgrad.workerd.js" &&
    resolveExport(pkg, ["node", "import", "default"]) === "./dist/mlpgrad.node.js" &&
    ["dist/mlpgrad.workerd.js", "dist/mlpgrad.simd.wasm"].every((file) => pkg.files.includes(file)),
  `workerd → ${resolveExport(pkg, ["workerd", "worker", "browser", "import", "default"])}`,
);
const entryText = readFileSync(path("dist/mlpgrad.workerd.js"), "utf8");
const entryBytes = statSync(path("dist/mlpgrad.workerd.js")).size;
const wasmBytes = statSync(path("dist/mlpgrad.simd.wasm")).size;
const mainBytes = statSync(path("dist/mlpgrad.js")).size;
check(
  "the workerd entry imports ./mlpgrad.simd.wasm and carries no base64 payload",
  entryText.includes('from "./mlpgrad.simd.wasm"') && !/[A-Za-z0-9+/]{2000,}/.test(entryText) && entryBytes < mainBytes,
  `${(entryBytes / 1024).toFixed(1)} KiB + ${(wasmBytes / 1024).toFixed(1)} KiB wasm, main bundle ${(mainBytes / 1024).toFixed(1)} KiB`,
);

// ---- Start workerd. ----

let binary;
let version;
try {
  // A CommonJS module: the platform binary's path (from the optional dependency) is its default export.
  const workerd = createRequire(import.meta.url)("workerd");
  binary = workerd.default;
  version = workerd.version;
} catch (error) {
  unavailable(`the workerd package did not load: ${error.message.trim().split("\n")[0]}`);
}
const probe = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 30_000 });
if (probe.status !== 0) unavailable(`${binary} --version failed (${probe.error?.message ?? probe.stderr.trim().split("\n")[0]})`);

const running = new Set();
process.on("exit", () => running.forEach((child) => child.kill("SIGKILL")));

/**
 * Starts `workerd serve …args` on 127.0.0.1 at a port the OS picks, requests / (bounded attempts, each
 * with a timeout), stops workerd and returns the JSON answer with timings. A workerd that runs
 * (`--version` worked) but does not serve is a failure, never a skip: a broken config or Worker looks so.
 */
async function serveOnce(args, env = {}) {
  const startedAt = performance.now();
  const child = spawn(binary, ["serve", ...args, "--control-fd=3"], { stdio: ["ignore", "pipe", "pipe", "pipe"], env: { ...process.env, ...env } });
  running.add(child);
  let log = "";
  child.stdout.on("data", (chunk) => (log += chunk));
  child.stderr.on("data", (chunk) => (log += chunk));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    // workerd reports each socket's port on the control descriptor: {"event":"listen","socket":"http","port":N}.
    const port = await new Promise((resolve, reject) => {
      let control = "";
      const timer = setTimeout(() => reject(new Error(`workerd did not listen within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      child.stdio[3].on("data", (chunk) => {
        const lines = (control + chunk).split("\n");
        control = lines.pop();
        for (const line of lines) {
          let message;
          try {
            message = JSON.parse(line);
          } catch {
            continue;
          }
          if (message.event === "listen" && message.socket === "http") {
            clearTimeout(timer);
            resolve(message.port);
          }
        }
      });
      exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`workerd exited (${child.signalCode ?? `code ${child.exitCode}`}) before listening`));
      });
    }).catch((error) => {
      throw new Error(`${error.message}${log ? `\n${log.trim()}` : ""}`);
    });
    const startMs = performance.now() - startedAt;
    const requestedAt = performance.now();
    let lastError;
    for (let attempt = 1; attempt <= REQUEST_ATTEMPTS; attempt++) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const body = await response.json();
        if (!response.ok) throw new Error(`HTTP ${response.status}: ${body.error ?? JSON.stringify(body)}`);
        return { result: body, port, startMs, requestMs: performance.now() - requestedAt };
      } catch (error) {
        lastError = error;
        if (/^HTTP /.test(error.message)) break;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
    throw new Error(`${lastError.message}${log ? `\n${log.trim()}` : ""}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
    running.delete(child);
  }
}

let served;
try {
  served = await serveOnce([path("tests/edge/config.capnp")]);
} catch (error) {
  check("the Worker answers", false, error.message);
  finish();
}
const r = served.result;
console.log(`  workerd ${version} on 127.0.0.1:${served.port}: listening after ${served.startMs.toFixed(0)} ms, answer after ${served.requestMs.toFixed(0)} ms (init ${r.initMs} ms)`);

// ---- What the Worker saw. ----

const refused = Object.values(r.compileFromBytes).every((outcome) => outcome.startsWith("refused"));
check("workerd refuses to compile WebAssembly from bytes (compile, new Module, instantiate)", refused, r.compileFromBytes.compile);
check(
  "so the main bundle's init() fails there (E_SOURCE) …",
  r.embeddedInit.code === "E_SOURCE" && /disallowed/i.test(r.embeddedInit.message ?? ""),
  r.embeddedInit.message ?? "it succeeded",
);
check(
  "… and the workerd entry's init() runs the imported SIMD module: one engine for concurrent and later calls",
  r.simd === true && r.hasSimd === true && r.sameEngine === true && r.separateEngine === true && r.userAgent === "Cloudflare-Workers",
  `simd ${r.simd}, user agent ${r.userAgent}`,
);
check(
  "the workerd entry exports exactly the main bundle's API",
  JSON.stringify(r.exports) === JSON.stringify(r.embeddedExports),
  `${r.exports.length} exports`,
);

const scalar = models.scalar;
let exact = 0;
let fd = 0;
for (const { x, value, gradient } of r.gradient) {
  exact = Math.max(exact, maxError(gradient, vjpRef(scalar, x, [1])), maxError([value], forwardRef(scalar, x).a));
  fd = Math.max(fd, maxError(gradient, centralDifferences(scalar, x, 0)));
}
check(
  `gradient of the [3, 4, 1] sigmoid f64 network at ${r.gradient.length} points: reference and central differences`,
  exact <= EXACT_TOL && fd <= FD_TOL,
  `${fmt(exact)}; central differences ${fmt(fd)}`,
);
check("gradient(x, out) returns out", r.returnsOut === true);

const two = models.twoOutputs;
exact = 0;
fd = 0;
for (const { x, forward, jacobian } of r.jacobian) {
  const rows = [0, 1].map((k) => vjpRef(two, x, k === 0 ? [1, 0] : [0, 1]));
  exact = Math.max(exact, maxError(jacobian, rows.flat()), maxError(forward, forwardRef(two, x).a));
  fd = Math.max(fd, maxError(jacobian, [0, 1].flatMap((k) => centralDifferences(two, x, k))));
}
check(
  `jacobian of the [3, 4, 2] network (n_L = 2) at ${r.jacobian.length} points: reference and central differences`,
  exact <= EXACT_TOL && fd <= FD_TOL,
  `${fmt(exact)}; central differences ${fmt(fd)}`,
);

const { xs, gradients } = r.batch;
const m = xs.length / 3;
const rowsOf = (flat) => Array.from({ length: m }, (_, i) => flat.slice(3 * i, 3 * i + 3));
const reference = rowsOf(xs).map((x) => vjpRef(scalar, x, [1]));
const batchError = maxError(gradients, reference.flat());
const valuesError = maxError(r.valueAndGradientBatch.values, rowsOf(xs).map((x) => forwardRef(scalar, x).a[0]));
check(
  `gradientBatch of ${m} rows (a block of 64 and a tail) and valueAndGradientBatch: reference per row`,
  batchError <= EXACT_TOL && valuesError <= EXACT_TOL && maxError(r.valueAndGradientBatch.gradients, gradients) === 0,
  `${fmt(batchError)}; values ${fmt(valuesError)}`,
);
check("grad(spec) gives the same gradient function", maxError(r.grad.gradient, vjpRef(scalar, r.grad.x, [1])) <= EXACT_TOL, fmt(maxError(r.grad.gradient, vjpRef(scalar, r.grad.x, [1]))));
check(
  "createMLPPool({ threads: 2 }) runs on one thread, says why, and equals gradientBatch bit for bit",
  r.pool.threads === 1 && /one thread/.test(r.pool.fallbackReason ?? "") && maxError(r.pool.gradients, gradients) === 0,
  r.pool.fallbackReason ?? "no fallbackReason",
);
const codes = Object.fromEntries(Object.entries(r.errors).map(([name, { code }]) => [name, code]));
check(
  "errors: { simd: false } and { relaxed: true } E_SOURCE, { shared: true } and requireThreads E_NO_THREADS, threads: 0 E_OPTIONS; init() keeps its engine",
  codes.scalarBuild === "E_SOURCE" && codes.relaxedBuild === "E_SOURCE" && codes.sharedMemory === "E_NO_THREADS" && codes.requireThreads === "E_NO_THREADS" && codes.badThreads === "E_OPTIONS" && r.sameEngineAfterErrors === true && r.hasThreads === false,
  JSON.stringify(codes),
);

// ---- The same through a bundler: wrangler.json, "mlpgrad" resolved by the package's exports map. ----

const scratch = mkdtempSync(join(tmpdir(), "mlpgrad-edge-"));
try {
  // compatibility_date as in config.capnp; workerd writes its bundle under .wrangler/ beside this file.
  const config = { name: "mlpgrad-edge-bundled", main: path("tests/edge/bundled-worker.js"), compatibility_date: "2026-11-17" };
  writeFileSync(join(scratch, "wrangler.json"), JSON.stringify(config));
  const bundled = await serveOnce([join(scratch, "wrangler.json"), "--socket-addr=http=127.0.0.1:0"], { WORKERD_ESBUILD: path("node_modules/.bin/esbuild") });
  const { simd, x, gradient } = bundled.result;
  const error = maxError(gradient, vjpRef(scalar, x, [1]));
  check(
    'bundled from wrangler.json (esbuild, as wrangler does): import "mlpgrad" takes the workerd entry and its imported kernels',
    simd === true && error <= EXACT_TOL,
    `${fmt(error)}; bundled and answered after ${(bundled.startMs + bundled.requestMs).toFixed(0)} ms`,
  );
} catch (error) {
  check('bundled from wrangler.json (esbuild, as wrangler does): import "mlpgrad" takes the workerd entry', false, error.message);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

finish();
