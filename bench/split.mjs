/**
 * One input on two threads (pool.gradient, src/split.ts) against one thread (pool.network.gradient), in
 * one process, interleaved in short blocks so that a busy neighbour slows both sides of the ratio alike:
 * `node bench/split.mjs [S3,S4,S5] [--threads 2] [--precision f32,f64] [--rounds 15] [--block-ms 20] [--warm-ms 1500]`.
 * Also a sweep of [n, n, n, 1] shapes (`--sweep 128,256,384,512,768,1024`) for the default of
 * createMLPPool's minSplitBytes. Reports medians per call, the ratio, the load average before and after,
 * and the share of CPU time the machine had idle during each row (Linux /proc/stat): on a machine whose
 * cores are busy with other work, a second thread has no core to run on and the ratio says so.
 * Beside every row, the bandwidth floor on the same weight bytes (bench/floor2.mjs): one thread reading them
 * twice against `threads` threads each reading its part twice at the same moment, interleaved blocks, medians;
 * `floorSpeedup` (one ÷ many) is what the memory system alone allows the split to gain.
 * Before the blocks, both sides are run back to back for `--warm-ms` (default 1500) and at least 1000 calls each:
 * V8 optimises the pool's JavaScript (runSplit, the workers' loops) only after hundreds of calls, on its
 * background threads, and on 2 cores such a compile takes the core the second thread needs — a short warm-up
 * left those compiles (measured: 1–21 ms each) inside the first blocks. Every call is also timed on its own:
 * the rows carry the per-call medians and p90 of both sides beside the block medians.
 * `--jacobian` times pool.jacobian against pool.network.jacobian instead (shapes J4 and 1024-1024-1024-10
 * by default; a shape may be given as its sizes, e.g. 784-512-512-256-10), without the floor (the Jacobian's
 * backward is compute-bound: 16 columns per weight read).
 * With `--json` (as `npm run bench`'s pool mode runs it, bench/run.mjs) it prints one JSON line of rows instead.
 * Needs `npm run build` (imports dist/mlpgrad.node.js).
 */
import { loadavg } from "node:os";
import { fail, finish, quietConsole } from "./child-io.mjs";
import { makeNetwork } from "./shapes.mjs";
import { cpuTimes } from "./interleave.mjs";
import { createFloor2, measureFloor2 } from "./floor2.mjs";
import { weightStrides } from "./contenders/mlpgrad.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const jacobian = args.includes("--jacobian");
const shapes = (args[0] && !args[0].startsWith("--") ? args[0] : jacobian ? "J4,1024-1024-1024-10" : "S3,S4,S5").split(",");
const threads = Number(option("threads", 2));
const precisions = option("precision", "f32,f64").split(",");
const rounds = Number(option("rounds", 15));
const blockMs = Number(option("block-ms", 20));
const warmMs = Number(option("warm-ms", 1500));
const sweep = option("sweep", undefined);
const json = args.includes("--json");
if (json) quietConsole();
const { createMLPPool } = await import("../dist/mlpgrad.node.js");
/** The rows measured, for --json. */
const rows = [];


const median = (values) => values.slice().sort((a, b) => a - b)[values.length >> 1];
const quantile = (values, q) => values.slice().sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];

async function measure(label, spec, x, about = {}) {
  const pool = await createMLPPool({ spec, threads, minSplitBytes: 0, adaptiveSplit: false });
  const n = spec.sizes[0] * (jacobian ? spec.sizes[spec.sizes.length - 1] : 1);
  const out1 = new (spec.precision === "f32" ? Float32Array : Float64Array)(n);
  const out2 = new (spec.precision === "f32" ? Float32Array : Float64Array)(n);
  // The two sides: one thread (the pool's network) and the split call.
  const network = pool.network;
  const oneCall = jacobian ? () => network.jacobian(x, out1) : () => network.gradient(x, out1);
  const splitCall = jacobian ? () => pool.jacobian(x, out2) : () => pool.gradient(x, out2);
  oneCall();
  await splitCall();
  for (let i = 0; i < n; i++) if (!Object.is(out1[i], out2[i])) throw new Error(`${label}: the pool's result differs from one thread's at [${i}]`);
  // Calls per block from a warm-up of both (see the header: long enough for V8 to have optimised both paths).
  let start = performance.now();
  let calls = 0;
  while (performance.now() - start < warmMs || calls < 1000) {
    oneCall();
    await splitCall();
    calls++;
  }
  const perBlock = Math.max(3, Math.round((blockMs * calls) / (performance.now() - start) / 1.5));
  const one = [];
  const two = [];
  // Each call's own time (ms), both sides.
  const oneCalls = [];
  const twoCalls = [];
  const before = loadavg()[0];
  const cpu0 = cpuTimes();
  for (let r = 0; r < rounds; r++) {
    start = performance.now();
    for (let i = 0, t = start; i < perBlock; i++) {
      oneCall();
      const now = performance.now();
      oneCalls.push(now - t);
      t = now;
    }
    one.push((performance.now() - start) / perBlock);
    start = performance.now();
    for (let i = 0, t = start; i < perBlock; i++) {
      await splitCall();
      const now = performance.now();
      twoCalls.push(now - t);
      t = now;
    }
    two.push((performance.now() - start) / perBlock);
  }
  const cpu1 = cpuTimes();
  const idle = cpu0 && cpu1 ? (cpu1.idle - cpu0.idle) / Math.max(1, cpu1.total - cpu0.total) : NaN;
  const threadsUsed = jacobian ? pool.jacobianThreads : pool.splitThreads;
  const strides = weightStrides(pool.network);
  await pool.dispose();
  const a = median(one);
  const b = median(two);
  // The bandwidth floor on one thread and on `threads` threads, over the same weight bytes (after the
  // pool is gone, so its workers do not compete).
  let floor = { oneUs: NaN, serialUs: NaN, twoUs: NaN, speedup: NaN, minSpeedup: NaN, concurrency: NaN, oneGbps: NaN, twoGbps: NaN };
  if (!jacobian) {
    const floor2 = await createFloor2(spec, spec.precision, strides, { threads });
    try {
      floor = measureFloor2(floor2, { rounds, blockMs });
    } finally {
      await floor2.dispose();
    }
  }
  rows.push({
    label, ...about, call: jacobian ? "jacobian" : "gradient", oneUs: a * 1000, twoUs: b * 1000, ratio: a / b, minRatio: Math.min(...one) / Math.min(...two), threads: threadsUsed,
    warmMs, perBlock, callOneUs: median(oneCalls) * 1000, callTwoUs: median(twoCalls) * 1000, callRatio: median(oneCalls) / median(twoCalls),
    callOneP90Us: quantile(oneCalls, 0.9) * 1000, callTwoP90Us: quantile(twoCalls, 0.9) * 1000,
    floorOneUs: floor.oneUs, floorSerialUs: floor.serialUs, floorTwoUs: floor.twoUs, floorSpeedup: floor.speedup, floorMinSpeedup: floor.minSpeedup,
    floorConcurrency: floor.concurrency, floorOneGbps: floor.oneGbps, floorTwoGbps: floor.twoGbps,
    floorStrides: strides ? "from the network" : "computed",
    loadBefore: before, loadAfter: loadavg()[0], idle,
  });
  console.log(
    `${label.padEnd(24)} one ${(a * 1000).toFixed(1).padStart(8)} µs   ${threadsUsed} threads ${(b * 1000).toFixed(1).padStart(8)} µs   ×${(a / b).toFixed(2)}` +
      `   (min ×${(Math.min(...one) / Math.min(...two)).toFixed(2)}; per call: medians ×${(median(oneCalls) / median(twoCalls)).toFixed(2)}, p90 ${(quantile(oneCalls, 0.9) * 1000).toFixed(0)} / ${(quantile(twoCalls, 0.9) * 1000).toFixed(0)} µs)${jacobian ? "" : `   floor ${floor.oneUs.toFixed(1)} → ${floor.twoUs.toFixed(1)} µs ×${floor.speedup.toFixed(2)} (by parts on one thread ${floor.serialUs.toFixed(1)} µs: concurrency ×${floor.concurrency.toFixed(2)})`}` +
      `   load ${before.toFixed(2)}→${loadavg()[0].toFixed(2)}, idle ${(100 * idle).toFixed(0)}%`,
  );
  return a / b;
}

/** A network of these sizes with deterministic weights (as the sweep's), for shapes given by their sizes. */
function sizedNetwork(sizes) {
  const n = sizes[0];
  const net = { sizes, layers: [], x: new Float64Array(n).map((_, i) => Math.fround(((i * 7919) % 1000) / 1000)) };
  for (let l = 1; l < sizes.length; l++) {
    const weights = new Float64Array(sizes[l] * sizes[l - 1]).map((_, k) => Math.fround((((k * 2654435761) % 2000) / 1000 - 1) / Math.sqrt(sizes[l - 1])));
    net.layers.push({ weights, bias: new Float64Array(sizes[l]) });
  }
  return net;
}

function specOf(network, precision) {
  return { sizes: network.sizes, layers: network.layers, activation: "sigmoid", precision };
}

async function main() {
  console.log(
    `node ${process.version}; ${jacobian ? "pool.jacobian against pool.network.jacobian" : "pool.gradient against pool.network.gradient"}; ${threads} threads; medians of ${rounds} interleaved blocks of ≈ ${blockMs} ms` +
      (jacobian ? "" : `; floor: one thread → ${threads} threads reading the weight bytes twice (bench/floor2.mjs)`),
  );
  if (sweep !== undefined) {
    for (const precision of precisions) {
      for (const n of sweep.split(",").map(Number)) {
        const sizes = [n, n, n, 1];
        const net = { sizes, layers: [], x: new Float64Array(n).map((_, i) => Math.fround(((i * 7919) % 1000) / 1000)) };
        for (let l = 1; l < sizes.length; l++) {
          const weights = new Float64Array(sizes[l] * sizes[l - 1]).map((_, k) => Math.fround((((k * 2654435761) % 2000) / 1000 - 1) / Math.sqrt(sizes[l - 1])));
          net.layers.push({ weights, bias: new Float64Array(sizes[l]) });
        }
        const kib = (n * n * 2 * (precision === "f32" ? 4 : 8)) / 1024;
        await measure(`[${n},${n},${n},1] ${precision} ${kib.toFixed(0)} KiB`, specOf(net, precision), net.x, { shape: `[${n},${n},${n},1]`, precision });
      }
    }
  } else {
    for (const precision of precisions) {
      for (const shape of shapes) {
        const net = /^\d+(-\d+)+$/.test(shape) ? sizedNetwork(shape.split("-").map(Number)) : makeNetwork(shape);
        await measure(`${shape} ${precision}`, specOf(net, precision), net.x, { shape, precision });
      }
    }
  }
}

try {
  await main();
  if (json) finish({ status: "ok", threads, rounds, blockMs, rows });
} catch (error) {
  if (!json) throw error;
  fail({ status: "ERROR", rows }, error);
}
