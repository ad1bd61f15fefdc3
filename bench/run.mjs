/**
 * The benchmark suite: `npm run bench [-- options]`. Four modes, each (mode, contender, shape) timed
 * in its own child process, contenders interleaved round-robin within each shape and rounds repeated,
 * medians over rounds quoted:
 * - single: one input's ∇ₓ a^[L] (bench/worker.mjs, benchmark.js), shapes S1–S5;
 * - batch: per-sample gradients of m = 256 inputs (bench/batch-worker.mjs), shapes S1–S5;
 * - jacobian: ∂a^[L]/∂x for n_L = 10 against one gradient of the same widths (bench/jacobian-worker.mjs);
 * - pool: mlpgrad's worker-thread pool against one thread, batch of m, S4 and S5 (bench/pool-worker.mjs),
 *   and one input split across the pool's threads against one thread, S4 and S5, f32 and f64 (bench/split.mjs,
 *   once per run after the rounds, interleaved blocks in one process).
 * Each round also measures the SIMD peak in its own child (bench/peak.mjs); mlpgrad's single-input
 * children time the bandwidth floor (bench/floor.mjs) beside the gradient. Then cold start
 * (bench/cold.mjs, fresh processes, with the cold-start floor bench/cold-floor.mjs and mlpgrad's cold path
 * alone, bench/cold-lean.mjs), createMLP's throughput (bench/create.mjs) and the allocation
 * check (bench/alloc.mjs) run. The parent
 * computes the f64 references the children check themselves against (batch references go to the
 * children as raw files, kept in the temporary directory between runs), prints the report, and writes
 * bench/results/latest.json, ratios.svg (single input) and ratios-batch.svg.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderRatioChart } from "./chart.mjs";
import { parseOptions, readFloat64File, writeFloat64File } from "./child-io.mjs";
import { runChild } from "./children.mjs";
import { writeLeanBundle } from "./cold-lean.mjs";
import { BASELINE, CONTENDERS, contender } from "./contenders/index.mjs";
import { finiteDifferenceError, referenceGradient, referenceGradients, referenceJacobian } from "./reference.mjs";
import { formatReport } from "./report.mjs";
import { DEFAULT_SEED, flopsPerGradient, JACOBIAN_SHAPES, makeInputs, makeNetwork, PAIRED_SHAPE, SHAPES, shapeSizes } from "./shapes.mjs";
import { summarize } from "./summary.mjs";

/** The modes, in the order a round runs them. */
const MODES = ["single", "batch", "jacobian", "pool"];
/**
 * Contenders the Jacobian mode times: mlpgrad and the two fastest peers (tfjs-cpu can too, with
 * `node bench/jacobian-worker.mjs tfjs-cpu J4`, but it is 3× slower than tfjs-wasm and adds nothing).
 */
const JACOBIAN_CONTENDERS = ["mlpgrad-f32", "mlpgrad-f64", "tfjs-wasm", "jax-js"];
/**
 * What --quick leaves out of the batch mode, to stay within its two minutes: the contenders whose
 * batch call takes seconds on the two largest shapes (tfjs-cpu ≈ 2.6 s on S5, the JS loops 0.7–0.8 s;
 * each needs a checked call and a timed one). The full run times them; naming them with
 * --contenders times them with --quick too.
 */
const QUICK_BATCH_SKIP = Object.freeze({ shapes: ["S4", "S5"], contenders: ["tfjs-cpu", "js-plain", "js-unrolled"] });
/** Contenders whose single-input gradient is timed against the bandwidth floor (bench/floor.mjs). */
const FLOOR_CONTENDERS = ["mlpgrad-f32", "mlpgrad-f64"];
/** Where batch references are cached between runs (see batchReferencePath). */
const REFERENCE_CACHE = join(os.tmpdir(), "mlpgrad-bench-references");
/** Shapes the pool mode runs on: the two whose batches give each thread enough work. */
const POOL_SHAPES = ["S4", "S5"];
/** Shapes of the relaxed-SIMD A/B (bench/relaxed.mjs): the relaxed build against the SIMD build. */
const RELAXED_SHAPES = ["S3", "S4"];

const USAGE = `usage: npm run bench -- [options]
  --quick              1 round, short timings, and no batches of tfjs-cpu, js-plain, js-unrolled on S4, S5
                       unless named in --contenders (about 2 minutes)
  --mode a,b           modes to run (default all: ${MODES.join(",")})
  --rounds N           full rounds over every (mode, shape, contender) (default 3, 1 with --quick)
  --shapes S1,S3       shapes to run (default all: ${Object.keys(SHAPES).join(",")}); the Jacobian shapes
                       ${Object.entries(PAIRED_SHAPE).map(([j, s]) => `${j} (with ${s})`).join(", ")} run when named or when their pair is,
                       the pool on ${POOL_SHAPES.join(", ")} when selected
  --contenders a,b     contenders to run (default all: ${Object.keys(CONTENDERS).join(",")});
                       the Jacobian mode has ${JACOBIAN_CONTENDERS.join(", ")}
  --batch N            inputs per batch in the batch and pool modes (default 256)
  --threads N          threads of the pool (default 2)
  --min-time S         shortest sample in seconds (benchmark.js minTime) (default 0.1, 0.05 with --quick)
  --max-time S         sampling time per child in seconds (benchmark.js maxTime) (default 1.5 for the
                       single mode and 0.75 for the others, 0.3 with --quick)
  --cold-runs N        fresh processes per cold-start contender (default 5, 3 with --quick)
  --seed N             network seed (default ${DEFAULT_SEED})
  --min-samples N      samples per child in the batch, Jacobian and pool modes (default 5, 3 with --quick)…
  --budget S           …unless one more round of samples would end past S seconds (default 4, 1 with
                       --quick; ≥ 1 sample)
  --no-peak --no-cold --no-alloc   skip those parts (cold start and allocation run with the single mode;
                       --no-peak also skips the bandwidth floor)
  --no-relaxed         skip the relaxed-SIMD A/B on S3, S4 (bench/relaxed.mjs, in a child with
                       --experimental-wasm-relaxed-simd; runs with the single or batch mode)
  --out DIR            where latest.json, ratios.svg and ratios-batch.svg go (default bench/results)`;

/**
 * Contenders timed from a fresh process in the cold-start comparison: mlpgrad, the cold-start floor
 * (bench/cold-floor.mjs: the least any library must do on this path in Node 20), mlpgrad's cold path
 * alone (bench/cold-lean.mjs: the bundle with all a cold start does not execute taken out) — both for
 * the target's limit line — and tfjs-wasm.
 */
const COLD_CONTENDERS = [BASELINE, "mlpgrad-floor", "mlpgrad-lean", "tfjs-wasm"];
/** The shape whose createMLP throughput is measured (2.1 million numbers). */
const CREATE_SHAPE = "S5";
/** Gradient calls in the allocation check. */
const ALLOC_CALLS = 100_000;

const list = (value, fallback) => (typeof value === "string" ? value.split(",").map((s) => s.trim()).filter(Boolean) : fallback);
const progress = (text) => process.stderr.write(`${text}\n`);

function readSettings(argv) {
  const { options } = parseOptions(argv);
  if (options.help || options.h) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = Boolean(options.quick);
  const settings = {
    quick,
    rounds: Number(options.rounds ?? (quick ? 1 : 3)),
    modes: list(options.mode, MODES),
    shapes: list(options.shapes, Object.keys(SHAPES)),
    contenders: list(options.contenders, Object.keys(CONTENDERS)),
    batch: Number(options.batch ?? 256),
    threads: Number(options.threads ?? 2),
    minTime: Number(options["min-time"] ?? (quick ? 0.05 : 0.1)),
    maxTime: Number(options["max-time"] ?? (quick ? 0.3 : 1.5)),
    // Interleaved samples with a median need less time than benchmark.js's runs: half, in the full run.
    sampledMaxTime: Number(options["max-time"] ?? (quick ? 0.3 : 0.75)),
    // The modes timed by timing.mjs: samples per child, and the sampling time after which fewer will
    // do (a batch call of tfjs-cpu on S5 takes seconds).
    minSamples: Number(options["min-samples"] ?? (quick ? 3 : 5)),
    budget: Number(options.budget ?? (quick ? 1 : 4)),
    warmupMs: quick ? 100 : 300,
    coldRuns: Number(options["cold-runs"] ?? (quick ? 3 : 5)),
    seed: Number(options.seed ?? DEFAULT_SEED),
    peak: !options["no-peak"],
    cold: !options["no-cold"],
    alloc: !options["no-alloc"],
    relaxed: !options["no-relaxed"],
    out: options.out ?? fileURLToPath(new URL("./results/", import.meta.url)),
  };
  settings.shapes.forEach(shapeSizes); // unknown names fail here, with the list of known ones
  settings.contenders.forEach(contender);
  for (const mode of settings.modes) {
    if (!MODES.includes(mode)) throw new Error(`unknown mode "${mode}": expected one of ${MODES.join(", ")}`);
  }
  if (!(Number.isInteger(settings.batch) && settings.batch >= 1)) throw new Error(`--batch must be a positive integer, got ${options.batch}`);
  if (!(Number.isInteger(settings.threads) && settings.threads >= 1)) throw new Error(`--threads must be a positive integer, got ${options.threads}`);
  // What each mode runs, from the selection.
  const singleShapes = settings.shapes.filter((name) => name in SHAPES);
  const has = (mode) => settings.modes.includes(mode);
  settings.cold &&= has("single");
  settings.alloc &&= has("single");
  settings.relaxed &&= (has("single") || has("batch")) && settings.shapes.some((name) => RELAXED_SHAPES.includes(name));
  settings.plan = {
    single: has("single") ? { shapes: singleShapes, contenders: settings.contenders } : null,
    batch: has("batch")
      ? { shapes: singleShapes, contenders: settings.contenders, skip: quick && options.contenders === undefined ? QUICK_BATCH_SKIP : null }
      : null,
    jacobian: has("jacobian")
      ? {
          shapes: Object.keys(JACOBIAN_SHAPES).filter((j) => settings.shapes.includes(j) || settings.shapes.includes(PAIRED_SHAPE[j])),
          contenders: settings.contenders.filter((name) => JACOBIAN_CONTENDERS.includes(name)),
        }
      : null,
    pool: has("pool") ? { shapes: POOL_SHAPES.filter((name) => settings.shapes.includes(name)), contenders: ["mlpgrad-pool"] } : null,
  };
  const library = new URL("../dist/src/index.js", import.meta.url);
  if ((settings.contenders.some((name) => name.startsWith("mlpgrad")) || has("pool")) && !existsSync(library)) {
    throw new Error(`mlpgrad is not built (${fileURLToPath(library)} is missing): run \`npm run build\` first`);
  }
  if (!(settings.rounds >= 1)) throw new Error(`--rounds must be at least 1, got ${options.rounds}`);
  return settings;
}

function gitCommit() {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  } catch {
    return undefined;
  }
}

/** Whether the library's sources differ from the commit (dist/ may then hold work in progress). */
function librarySourcesChanged() {
  try {
    const status = execFileSync("git", ["status", "--porcelain", "--", "src", "assembly"], { stdio: ["ignore", "pipe", "ignore"] });
    return status.toString().trim().length > 0;
  } catch {
    return undefined;
  }
}

/** The parent's f64 oracle per shape, itself checked against finite differences. */
function prepareShapes(settings) {
  const shapes = {};
  const references = {};
  for (const name of settings.plan.single?.shapes ?? []) {
    const net = makeNetwork(name, settings.seed);
    const reference = referenceGradient(net);
    const fdError = finiteDifferenceError(net, reference);
    if (!(fdError < 1e-6)) throw new Error(`the f64 reference for ${name} disagrees with finite differences (${fdError})`);
    shapes[name] = { sizes: net.sizes, flops: flopsPerGradient(net.sizes), fdError };
    references[name] = Array.from(reference);
  }
  return { shapes, references };
}

/**
 * Where the batch reference for (shape, m, seed) is kept between runs: it takes seconds to compute
 * for S5 (256 plain-JS gradients). The name hashes the code that makes it (reference.mjs and
 * shapes.mjs), so a change to either computes it afresh.
 */
function batchReferencePath(name, settings) {
  const hash = createHash("sha256");
  for (const file of ["reference.mjs", "shapes.mjs"]) hash.update(readFileSync(new URL(`./${file}`, import.meta.url)));
  hash.update(`${name} ${settings.batch} ${settings.seed}`);
  return join(REFERENCE_CACHE, `${name}-b${settings.batch}-${hash.digest("hex").slice(0, 16)}.f64`);
}

/**
 * The per-sample f64 gradients of the batch (batch and pool modes), one raw file per shape that the
 * children read (cached, see batchReferencePath); the last row is checked against finite differences
 * on every run, cached or not.
 */
function prepareBatches(settings) {
  const shapes = {};
  const files = {};
  const names = [...new Set([...(settings.plan.batch?.shapes ?? []), ...(settings.plan.pool?.shapes ?? [])])];
  if (names.length) mkdirSync(REFERENCE_CACHE, { recursive: true });
  for (const name of names) {
    const t0 = performance.now();
    const net = makeNetwork(name, settings.seed);
    const xs = makeInputs(name, settings.batch, settings.seed);
    const n1 = net.sizes[0];
    const path = batchReferencePath(name, settings);
    const cached = existsSync(path) ? readFloat64File(path) : null;
    const reference = cached?.length === xs.length ? cached : referenceGradients(net, xs);
    if (reference !== cached) writeFloat64File(path, reference);
    const last = (settings.batch - 1) * n1;
    const fdError = finiteDifferenceError(net, reference.subarray(last), { x: xs.subarray(last) });
    if (!(fdError < 1e-6)) throw new Error(`the f64 batch reference for ${name} disagrees with finite differences (${fdError}; ${path})`);
    files[name] = path;
    shapes[name] = { sizes: net.sizes, flopsPerSample: flopsPerGradient(net.sizes), batch: settings.batch, fdError, cached: reference === cached };
    progress(`[reference] ${name} batch of ${settings.batch}: ${reference === cached ? "cached" : "computed"}, ${(performance.now() - t0).toFixed(0)} ms`);
  }
  return { shapes, files };
}

/** The f64 Jacobians of the Jacobian shapes and the gradients of their n_L = 1 pairs. */
function prepareJacobians(settings) {
  const shapes = {};
  const references = {};
  for (const name of settings.plan.jacobian?.shapes ?? []) {
    const net = makeNetwork(name, settings.seed);
    const pair = makeNetwork(PAIRED_SHAPE[name], settings.seed);
    const jacobian = referenceJacobian(net);
    const n1 = net.sizes[0];
    const nL = net.sizes[net.sizes.length - 1];
    const fdError = finiteDifferenceError(net, jacobian.subarray((nL - 1) * n1), { output: nL - 1 });
    if (!(fdError < 1e-6)) throw new Error(`the f64 Jacobian for ${name} disagrees with finite differences (${fdError})`);
    shapes[name] = { sizes: net.sizes, paired: PAIRED_SHAPE[name], pairedSizes: pair.sizes, fdError };
    references[name] = { jacobian: Array.from(jacobian), gradient: Array.from(referenceGradient(pair)) };
  }
  return { shapes, references };
}

/** Rotates the contender order each round, so no contender always runs first or last. */
const rotate = (items, by) => items.map((_, k) => items[(k + by) % items.length]);

/** One progress line's worth of a child's result. */
function describeRun(mode, result, batch) {
  if (result.status === "ok") {
    const rme = Number.isFinite(result.bench.rme) ? ` ±${result.bench.rme.toFixed(1)}%` : "";
    switch (mode) {
      case "batch":
        return `${(result.bench.medianSampleUs / batch).toFixed(2)} µs/sample${rme}${result.variant !== "gradientBatch" ? ` (${result.variant})` : ""}`;
      case "jacobian":
        return `Jacobian ${result.bench.medianSampleUs.toFixed(1)} µs = ${result.ratio.toFixed(2)} × gradient ${result.gradientBench.medianSampleUs.toFixed(1)} µs`;
      case "pool":
        return `${result.threads} threads ${(result.bench.medianSampleUs / batch).toFixed(2)} vs 1 thread ${(result.singleBench.medianSampleUs / batch).toFixed(2)} µs/sample: ${result.speedup.toFixed(2)}×`;
      default:
        return `${result.bench.medianSampleUs.toFixed(2)} µs${rme}` +
          (result.floor ? `; ${result.floor.ratio.toFixed(2)}× the floor of ${result.floor.us.toFixed(2)} µs (${result.floor.gbps.toFixed(1)} GB/s)` : "");
    }
  }
  if (result.status === "FAILED") return `FAILED (rel. error ${result.relErr})`;
  if (result.status === "SKIPPED") return `SKIPPED: ${result.reason}`;
  return `ERROR ${String(result.error).split("\n")[0]}`;
}

/** Rounds of (peak, then every mode's shapes × contenders in rotated order), each child on its own. */
async function runRounds(settings, inputs, raw) {
  const timing = ["--seed", String(settings.seed), "--min-time", String(settings.minTime),
    "--max-time", String(settings.maxTime), "--warmup-ms", String(settings.warmupMs)];
  const sampled = ["--seed", String(settings.seed), "--min-time", String(settings.minTime), "--max-time", String(settings.sampledMaxTime),
    "--warmup-ms", String(settings.warmupMs), "--min-samples", String(settings.minSamples), "--budget", String(settings.budget)];
  const batched = [...sampled, "--batch", String(settings.batch)];
  // What each mode's child is, how it is called and where its results go.
  const children = {
    single: {
      script: "worker.mjs",
      // mlpgrad's SIMD contenders also time the bandwidth floor interleaved, for a same-process ratio.
      args: (name, shape) => [name, shape, ...timing, ...(settings.peak && FLOOR_CONTENDERS.includes(name) ? ["--floor"] : [])],
      job: (shape) => ({ reference: inputs.single[shape] }),
      runs: raw.runs,
    },
    batch: {
      script: "batch-worker.mjs",
      // mlpgrad's batches also time the peak loop interleaved, for a same-process share of peak.
      args: (name, shape) => [name, shape, ...batched, ...(settings.peak && name.startsWith("mlpgrad") ? ["--peak"] : [])],
      job: (shape) => ({ referenceFile: inputs.batch[shape] }),
      runs: raw.batchRuns,
    },
    jacobian: { script: "jacobian-worker.mjs", args: (name, shape) => [name, shape, ...sampled], job: (shape) => inputs.jacobian[shape], runs: raw.jacobianRuns },
    pool: { script: "pool-worker.mjs", args: (_, shape) => [shape, ...batched, "--threads", String(settings.threads)], job: (shape) => ({ referenceFile: inputs.batch[shape] }), runs: raw.poolRuns },
  };
  for (let round = 1; round <= settings.rounds; round++) {
    const tag = `[round ${round}/${settings.rounds}]`;
    if (settings.peak) {
      const t0 = performance.now();
      const peak = await runChild("peak.mjs", ["--ms", settings.quick ? "10" : "20"]);
      raw.meta.modeSeconds.peak = (raw.meta.modeSeconds.peak ?? 0) + (performance.now() - t0) / 1000;
      raw.peakRuns.push({ round, ...peak });
      progress(`${tag} SIMD peak: ${peak.status === "ok" ? `f32x4 ${peak.f32x4.gflops.toFixed(1)}, f64x2 ${peak.f64x2.gflops.toFixed(1)} GFLOP/s` : peak.error}`);
    }
    for (const mode of MODES) {
      const plan = settings.plan[mode];
      if (!plan) continue;
      const child = children[mode];
      for (const shape of plan.shapes) {
        const skipped = (name) => plan.skip?.shapes.includes(shape) && plan.skip.contenders.includes(name);
        for (const name of rotate(plan.contenders.filter((name) => !skipped(name)), round - 1)) {
          // The 1-minute load average as the child starts: a pool needs a free core, for one.
          const loadAverage = os.loadavg()[0];
          const t0 = performance.now();
          const result = await runChild(child.script, child.args(name, shape), { job: child.job(shape) });
          const wallS = (performance.now() - t0) / 1000;
          raw.meta.modeSeconds[mode] = (raw.meta.modeSeconds[mode] ?? 0) + wallS;
          child.runs.push({ round, ...result, contender: name, shape, wallS, loadAverage });
          progress(`${tag} ${mode.padEnd(8)} ${shape} ${name.padEnd(19)} ${describeRun(mode, result, settings.batch)}`);
        }
      }
    }
  }
}

/**
 * One input on the pool's threads against one thread (pool.gradient vs pool.network.gradient), the pool
 * mode's shapes, f32 and f64: bench/split.mjs in one child, interleaved blocks, medians.
 */
async function runSplit(settings, raw) {
  const shapes = settings.plan.pool.shapes;
  const args = [shapes.join(","), "--threads", String(settings.threads), "--precision", "f32,f64", "--rounds", settings.quick ? "5" : "15", "--json"];
  const t0 = performance.now();
  const result = await runChild("split.mjs", args);
  raw.meta.modeSeconds.split = (performance.now() - t0) / 1000;
  raw.splitRuns.push(result);
  for (const row of result.rows ?? []) {
    progress(`[split] ${row.label.padEnd(8)} one thread ${row.oneUs.toFixed(1)} µs, ${row.threads} threads ${row.twoUs.toFixed(1)} µs: ${row.ratio.toFixed(2)}×${Number.isFinite(row.floorSpeedup) ? ` (two-thread floor ${row.floorSpeedup.toFixed(2)}×)` : ""} (idle ${(100 * row.idle).toFixed(0)}%, load ${row.loadBefore.toFixed(2)})`);
  }
  if (result.status !== "ok") progress(`[split] ${result.status} ${result.error ?? ""}`);
}

/** Fresh processes to the first S3 gradient, the cold-start contenders interleaved. */
async function runColdStarts(settings, raw) {
  // mlpgrad-lean runs a copy of the bundle as built now, stripped by one covered cold start of it.
  try {
    const lean = writeLeanBundle();
    progress(`[cold] mlpgrad-lean: ${lean.leanBytes} of the bundle's ${lean.bundleBytes} bytes (${lean.functions} function bodies never called, ${lean.statements} statements never reached, emptied)`);
  } catch (error) {
    progress(`[cold] mlpgrad-lean could not be made: ${error.message}`);
  }
  for (let k = 1; k <= settings.coldRuns; k++) {
    for (const name of COLD_CONTENDERS) {
      const result = await runChild("cold.mjs", [name, "--shape", "S3"]);
      raw.coldRuns.push({ ...result, contender: name });
      progress(`[cold ${k}/${settings.coldRuns}] ${name.padEnd(12)} ${result.status === "ok" ? `${result.totalMs.toFixed(1)} ms` : `${result.status} ${result.error ?? ""}`}`);
    }
  }
  // createMLP's check-and-copy throughput per weight form, fresh processes (bench/create.mjs).
  const loadAverage = os.loadavg()[0];
  const create = await runChild("create.mjs", ["--shape", CREATE_SHAPE, "--runs", String(settings.coldRuns)]);
  raw.createRuns.push({ ...create, loadAverage });
  progress(
    `[create] ${CREATE_SHAPE} ` +
      (create.status === "ok" ? Object.entries(create.forms).map(([form, f]) => `${form} ${f.mNumbersPerSec.toFixed(1)} M numbers/s`).join(", ") : create.error),
  );
}

/** The allocation check on S3, in children with --expose-gc. */
async function runAllocationChecks(settings, raw) {
  const names = settings.quick ? [BASELINE] : [BASELINE, "mlpgrad-f64"];
  for (const name of names) {
    const args = [name, "--shape", "S3", "--calls", String(ALLOC_CALLS)];
    const result = await runChild("alloc.mjs", args, { nodeArgs: ["--expose-gc"] });
    raw.allocRuns.push({ ...result, contender: name });
    progress(`[alloc] ${name} ${result.status === "ok" ? `heap Δ ${result.heapUsedDelta} B, ${result.gcDuringCalls} GCs` : result.error}`);
  }
}

/**
 * The relaxed-SIMD build against the SIMD build (bench/relaxed.mjs): both engines in one child with
 * --experimental-wasm-relaxed-simd (Node 20 validates relaxed SIMD only behind it), alternating samples.
 */
async function runRelaxedAB(settings, raw) {
  const shapes = settings.shapes.filter((name) => RELAXED_SHAPES.includes(name));
  const args = ["--shapes", shapes.join(","), "--samples", String(settings.quick ? 5 : 15), "--batch", String(settings.batch)];
  const result = await runChild("relaxed.mjs", args, { nodeArgs: ["--experimental-wasm-relaxed-simd"] });
  raw.relaxedRuns.push({ ...result, loadAverage: os.loadavg()[0] });
  for (const r of result.rows ?? []) progress(`[relaxed] ${r.shape} ${r.precision} ${r.kind.padEnd(18)} ${r.gain.toFixed(2)}× (SIMD ${r.simdUs.toFixed(1)} µs, relaxed ${r.relaxedUs.toFixed(1)} µs)`);
  if (result.status !== "ok") progress(`[relaxed] ${result.status} ${result.error ?? ""}`);
}

/** The report's relaxed-SIMD section: the gain of the relaxed build per shape, precision and call. */
function formatRelaxed(runs) {
  const run = runs.find((r) => r.rows?.length);
  if (run === undefined) return runs.length ? `\nRelaxed SIMD: ${runs[0].status} ${runs[0].error ?? ""}\n` : "";
  const lines = [
    `\nRelaxed SIMD (f32x4/f64x2.relaxed_madd) against the SIMD build, one process, medians of ${run.samples} alternating samples, load ${run.loadAverage.toFixed(2)}${run.status === "ok" ? "" : ` — ${run.status}: results outside the tolerances`}:`,
    "| shape | precision | call | SIMD µs | relaxed µs | gain |",
    "|---|---|---|---|---|---|",
    ...run.rows.map((r) => `| ${r.shape} | ${r.precision} | ${r.kind} | ${r.simdUs.toFixed(1)} | ${r.relaxedUs.toFixed(1)} | ${r.gain.toFixed(2)}× |`),
  ];
  return `${lines.join("\n")}\n`;
}

async function main() {
  const settings = readSettings(process.argv.slice(2));
  const started = performance.now();
  const cpus = os.cpus();
  const raw = {
    meta: {
      date: new Date().toISOString().slice(0, 19).replace("T", " "),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpu: cpus[0]?.model?.trim() ?? "unknown CPU",
      cpus: cpus.length,
      loadAverage: os.loadavg()[0],
      commit: gitCommit(),
      sourcesChanged: librarySourcesChanged(),
      argv: process.argv.slice(2),
      ...settings,
      modeSeconds: {},
    },
    shapes: {},
    batchShapes: {},
    jacobianShapes: {},
    peakRuns: [],
    runs: [],
    batchRuns: [],
    jacobianRuns: [],
    poolRuns: [],
    coldRuns: [],
    createRuns: [],
    allocRuns: [],
    relaxedRuns: [],
    splitRuns: [],
  };
  const t0 = performance.now();
  const single = prepareShapes(settings);
  const batch = prepareBatches(settings);
  const jacobian = prepareJacobians(settings);
  raw.meta.modeSeconds.references = (performance.now() - t0) / 1000;
  raw.shapes = single.shapes;
  raw.batchShapes = batch.shapes;
  raw.jacobianShapes = jacobian.shapes;
  await runRounds(settings, { single: single.references, batch: batch.files, jacobian: jacobian.references }, raw);
  const tailStarted = performance.now();
  if (settings.plan.pool?.shapes.length) await runSplit(settings, raw);
  if (settings.cold) await runColdStarts(settings, raw);
  if (settings.alloc) await runAllocationChecks(settings, raw);
  if (settings.relaxed) await runRelaxedAB(settings, raw);
  if (settings.cold || settings.alloc) raw.meta.modeSeconds["cold start and allocation"] = (performance.now() - tailStarted) / 1000;
  raw.meta.durationS = (performance.now() - started) / 1000;
  raw.meta.loadAverageEnd = os.loadavg()[0];

  const summary = summarize(raw);
  process.stdout.write(formatReport(summary));
  process.stdout.write(formatRelaxed(raw.relaxedRuns));
  mkdirSync(settings.out, { recursive: true });
  const written = [join(settings.out, "latest.json")];
  writeFileSync(written[0], JSON.stringify({ summary, raw }, null, 1) + "\n");
  if (Object.keys(summary.shapes).length) {
    written.push(join(settings.out, "ratios.svg"));
    writeFileSync(written.at(-1), renderRatioChart(summary, "single"));
  }
  if (summary.batch && Object.keys(summary.batch.shapes).length) {
    written.push(join(settings.out, "ratios-batch.svg"));
    writeFileSync(written.at(-1), renderRatioChart(summary, "batch"));
  }
  progress(`\nwrote ${written.join(", ")} in ${raw.meta.durationS.toFixed(0)} s`);
}

main().catch((error) => {
  process.stderr.write(`bench: ${error?.message ?? error}\n(npm run bench -- --help lists the options)\n`);
  process.exit(1);
});
