/**
 * The benchmark suite: `npm run bench [-- options]`.
 *
 * Every (contender, shape) is timed in its own child process (bench/worker.mjs), contenders
 * interleaved round-robin within each shape and rounds repeated, and medians over rounds are quoted.
 * Each round also measures the SIMD peak in its own child (bench/peak.mjs). Then cold start
 * (bench/cold.mjs, fresh processes) and the allocation check (bench/alloc.mjs) run. The parent
 * computes the f64 reference gradients the children check themselves against, prints the report,
 * and writes bench/results/latest.json and bench/results/ratios.svg.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderRatioChart } from "./chart.mjs";
import { parseOptions } from "./child-io.mjs";
import { runChild } from "./children.mjs";
import { BASELINE, CONTENDERS, contender } from "./contenders/index.mjs";
import { finiteDifferenceError, referenceGradient } from "./reference.mjs";
import { formatReport } from "./report.mjs";
import { DEFAULT_SEED, flopsPerGradient, makeNetwork, SHAPES, shapeSizes } from "./shapes.mjs";
import { summarize } from "./summary.mjs";

const USAGE = `usage: npm run bench -- [options]
  --quick              1 round, short timings (under 2 minutes)
  --rounds N           full rounds over every (shape, contender) (default 3, 1 with --quick)
  --shapes S1,S3       shapes to run (default all: ${Object.keys(SHAPES).join(",")})
  --contenders a,b     contenders to run (default all: ${Object.keys(CONTENDERS).join(",")})
  --min-time S         benchmark.js minTime per sample in seconds (default 0.1, 0.05 with --quick)
  --max-time S         benchmark.js maxTime per child in seconds (default 1.5, 0.3 with --quick)
  --cold-runs N        fresh processes per cold-start contender (default 5, 3 with --quick)
  --seed N             network seed (default ${DEFAULT_SEED})
  --no-peak --no-cold --no-alloc   skip those parts
  --out DIR            where latest.json and ratios.svg go (default bench/results)`;

/** Contenders timed from a fresh process in the cold-start comparison. */
const COLD_CONTENDERS = [BASELINE, "tfjs-wasm"];
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
    shapes: list(options.shapes, Object.keys(SHAPES)),
    contenders: list(options.contenders, Object.keys(CONTENDERS)),
    minTime: Number(options["min-time"] ?? (quick ? 0.05 : 0.1)),
    maxTime: Number(options["max-time"] ?? (quick ? 0.3 : 1.5)),
    warmupMs: quick ? 100 : 300,
    coldRuns: Number(options["cold-runs"] ?? (quick ? 3 : 5)),
    seed: Number(options.seed ?? DEFAULT_SEED),
    peak: !options["no-peak"],
    cold: !options["no-cold"],
    alloc: !options["no-alloc"],
    out: options.out ?? fileURLToPath(new URL("./results/", import.meta.url)),
  };
  settings.shapes.forEach(shapeSizes); // unknown names fail here, with the list of known ones
  settings.contenders.forEach(contender);
  const library = new URL("../dist/src/index.js", import.meta.url);
  if (settings.contenders.some((name) => name.startsWith("mlpgrad")) && !existsSync(library)) {
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

/** The parent's f64 oracle per shape, itself checked against finite differences. */
function prepareShapes(settings) {
  const shapes = {};
  const references = {};
  for (const name of settings.shapes) {
    const net = makeNetwork(name, settings.seed);
    const reference = referenceGradient(net);
    const fdError = finiteDifferenceError(net, reference);
    if (!(fdError < 1e-6)) throw new Error(`the f64 reference for ${name} disagrees with finite differences (${fdError})`);
    shapes[name] = { sizes: net.sizes, flops: flopsPerGradient(net.sizes), fdError };
    references[name] = Array.from(reference);
  }
  return { shapes, references };
}

/** Rotates the contender order each round, so no contender always runs first or last. */
const rotate = (items, by) => items.map((_, k) => items[(k + by) % items.length]);

function describeRun(result) {
  if (result.status === "ok") return `${result.bench.medianSampleUs.toFixed(2)} µs ±${result.bench.rme.toFixed(1)}%`;
  if (result.status === "FAILED") return `FAILED (rel. error ${result.relErr})`;
  return `ERROR ${String(result.error).split("\n")[0]}`;
}

/** Rounds of (peak, then every shape × contender in rotated order), each child on its own. */
async function runRounds(settings, references, raw) {
  const workerArgs = ["--seed", String(settings.seed), "--min-time", String(settings.minTime),
    "--max-time", String(settings.maxTime), "--warmup-ms", String(settings.warmupMs)];
  for (let round = 1; round <= settings.rounds; round++) {
    const tag = `[round ${round}/${settings.rounds}]`;
    if (settings.peak) {
      const peak = await runChild("peak.mjs", ["--ms", settings.quick ? "10" : "20"]);
      raw.peakRuns.push({ round, ...peak });
      progress(`${tag} SIMD peak: ${peak.status === "ok" ? `f32x4 ${peak.f32x4.gflops.toFixed(1)}, f64x2 ${peak.f64x2.gflops.toFixed(1)} GFLOP/s` : peak.error}`);
    }
    for (const shape of settings.shapes) {
      for (const name of rotate(settings.contenders, round - 1)) {
        const result = await runChild("worker.mjs", [name, shape, ...workerArgs], { job: { reference: references[shape] } });
        raw.runs.push({ round, ...result, contender: name, shape });
        progress(`${tag} ${shape} ${name.padEnd(19)} ${describeRun(result)}`);
      }
    }
  }
}

/** Fresh processes to the first S3 gradient, the cold-start contenders interleaved. */
async function runColdStarts(settings, raw) {
  for (let k = 1; k <= settings.coldRuns; k++) {
    for (const name of COLD_CONTENDERS) {
      const result = await runChild("cold.mjs", [name, "--shape", "S3"]);
      raw.coldRuns.push({ ...result, contender: name });
      progress(`[cold ${k}/${settings.coldRuns}] ${name.padEnd(12)} ${result.status === "ok" ? `${result.totalMs.toFixed(1)} ms` : `${result.status} ${result.error ?? ""}`}`);
    }
  }
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
      commit: gitCommit(),
      argv: process.argv.slice(2),
      ...settings,
    },
    shapes: {},
    peakRuns: [],
    runs: [],
    coldRuns: [],
    allocRuns: [],
  };
  const { shapes, references } = prepareShapes(settings);
  raw.shapes = shapes;

  await runRounds(settings, references, raw);
  if (settings.cold) await runColdStarts(settings, raw);
  if (settings.alloc) await runAllocationChecks(settings, raw);
  raw.meta.durationS = (performance.now() - started) / 1000;

  const summary = summarize(raw);
  process.stdout.write(formatReport(summary));
  mkdirSync(settings.out, { recursive: true });
  const jsonPath = join(settings.out, "latest.json");
  const svgPath = join(settings.out, "ratios.svg");
  writeFileSync(jsonPath, JSON.stringify({ summary, raw }, null, 1) + "\n");
  writeFileSync(svgPath, renderRatioChart(summary));
  progress(`\nwrote ${jsonPath} and ${svgPath} in ${raw.meta.durationS.toFixed(0)} s`);
}

main().catch((error) => {
  process.stderr.write(`bench: ${error?.message ?? error}\n(npm run bench -- --help lists the options)\n`);
  process.exit(1);
});
