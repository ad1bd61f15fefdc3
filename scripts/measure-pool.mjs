// Quick measurement (not a test): gradientBatch of 256 inputs through createMLPPool with 1 and 2 threads,
// f32, on [784, 512, 512, 256, 1] and [1024, 1024, 1024, 1]. Rounds alternate between the two pools so
// drift hits both. On a shared machine other processes often hold a core, so each round first checks
// what two threads of plain JS gain right now; the speed-up is given over all rounds and over the
// rounds where the machine had two free cores (plain JS ≥ 1.8×).
// Run after `npm run build`: node scripts/measure-pool.mjs [rounds] [n_1: only that shape]
import { Worker } from "node:worker_threads";
import { createMLPPool } from "../dist/mlpgrad.node.js";

const ROUNDS = Number(process.argv[2] ?? 15);
const ONLY = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const CALLS = 3; // per round and pool
const M = 256;
const FREE = 1.8;

function spec(sizes, seed) {
  let s = seed;
  const random = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const layers = sizes.slice(1).map((n, i) => ({
    weights: Float32Array.from({ length: n * sizes[i] }, () => random() / Math.sqrt(sizes[i])),
    bias: Float32Array.from({ length: n }, () => random() / 10),
  }));
  return { sizes, precision: "f32", activations: "sigmoid", layers };
}

const median = (v) => (v.length === 0 ? NaN : v.slice().sort((a, b) => a - b)[v.length >> 1]);

// A plain JS loop on the main thread and in a worker, one after the other and at once.
const body = "let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i); return s;";
const spinner = new Worker(`const { parentPort } = require("node:worker_threads"); parentPort.on("message", (n) => parentPort.postMessage((() => { ${body} })()));`, { eval: true });
const spin = new Function("n", body);
const inWorker = (n) => new Promise((resolve) => { spinner.once("message", resolve); spinner.postMessage(n); });
async function twoThreadGain(n = 2e7) {
  let t = performance.now();
  spin(n);
  await inWorker(n);
  const apart = performance.now() - t;
  t = performance.now();
  const done = inWorker(n);
  spin(n);
  await done;
  return apart / (performance.now() - t);
}
await twoThreadGain(1e6);

for (const sizes of [[784, 512, 512, 256, 1], [1024, 1024, 1024, 1]].filter((s) => ONLY === undefined || s[0] === ONLY)) {
  const model = spec(sizes, 7);
  const pools = [await createMLPPool({ spec: model, threads: 1 }), await createMLPPool({ spec: model, threads: 2, requireThreads: true })];
  const xs = Float32Array.from({ length: M * sizes[0] }, (_, i) => Math.sin(i * 0.001));
  const out = new Float32Array(M * sizes[0]);
  for (const pool of pools) for (let i = 0; i < 20; i++) await pool.gradientBatch(xs, out); // warm up (tier-up)
  const all = [];
  const free = [];
  for (let r = 0; r < ROUNDS; r++) {
    const gain = await twoThreadGain();
    const ms = [];
    for (const pool of pools) {
      const t0 = performance.now();
      for (let i = 0; i < CALLS; i++) await pool.gradientBatch(xs, out);
      ms.push((performance.now() - t0) / CALLS);
    }
    const after = await twoThreadGain();
    all.push(ms);
    if (Math.min(gain, after) >= FREE) free.push(ms);
  }
  const report = (rounds) => {
    const [one, two] = [0, 1].map((p) => median(rounds.map((ms) => ms[p])));
    return `1 thread ${one.toFixed(2)} ms, 2 threads ${two.toFixed(2)} ms, speed-up ${median(rounds.map(([a, b]) => a / b)).toFixed(2)}×`;
  };
  console.log(`[${sizes}] batch ${M}, median of ${all.length} rounds: ${report(all)}`);
  console.log(`  ${free.length} rounds with two free cores: ${free.length === 0 ? "none" : report(free)}`);
  for (const pool of pools) await pool.dispose();
}
await spinner.terminate();
