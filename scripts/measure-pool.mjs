// Quick measurement (not a test): gradientBatch of 256 inputs through createMLPPool with 1 and 2 threads,
// f32, on [784, 512, 512, 256, 1] and [1024, 1024, 1024, 1]. Rounds alternate between the two pools so
// drift on a shared machine hits both; prints the median ms per call and the speed-up.
// Run after `npm run build`: node scripts/measure-pool.mjs [rounds]
import { createMLPPool } from "../dist/mlpgrad.js";

const ROUNDS = Number(process.argv[2] ?? 15);
const CALLS = 4; // per round and pool
const M = 256;

function spec(sizes, seed) {
  let s = seed;
  const random = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const layers = sizes.slice(1).map((n, i) => ({
    weights: Float32Array.from({ length: n * sizes[i] }, () => random() / Math.sqrt(sizes[i])),
    bias: Float32Array.from({ length: n }, () => random() / 10),
  }));
  return { sizes, precision: "f32", activations: "sigmoid", layers };
}

const median = (v) => v.slice().sort((a, b) => a - b)[v.length >> 1];

// What two threads can gain on this machine right now: a plain JS loop on the main thread and in a
// worker, alone and at once. On a busy shared machine this is well below 2×, and so is the pool's.
async function ceiling() {
  const { Worker } = await import("node:worker_threads");
  const body = "let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i); return s;";
  const worker = new Worker(`const { parentPort } = require("node:worker_threads"); parentPort.on("message", (n) => parentPort.postMessage((() => { ${body} })()));`, { eval: true });
  const spin = new Function("n", body);
  const inWorker = (n) => new Promise((resolve) => { worker.once("message", resolve); worker.postMessage(n); });
  const n = 1e8;
  await inWorker(1e6);
  spin(1e6);
  let t = performance.now();
  spin(n);
  await inWorker(n);
  const apart = performance.now() - t;
  t = performance.now();
  const done = inWorker(n);
  spin(n);
  await done;
  const together = performance.now() - t;
  await worker.terminate();
  return apart / together;
}
console.log(`two threads of plain JS: ${(await ceiling()).toFixed(2)}× (the machine's parallelism right now)`);

for (const sizes of [[784, 512, 512, 256, 1], [1024, 1024, 1024, 1]]) {
  const model = spec(sizes, 7);
  const pools = [await createMLPPool({ spec: model, threads: 1 }), await createMLPPool({ spec: model, threads: 2, requireThreads: true })];
  const xs = Float32Array.from({ length: M * sizes[0] }, (_, i) => Math.sin(i * 0.001));
  const out = new Float32Array(M * sizes[0]);
  for (const pool of pools) for (let i = 0; i < 20; i++) await pool.gradientBatch(xs, out); // warm up (tier-up)
  const times = [[], []];
  for (let r = 0; r < ROUNDS; r++) {
    for (const [p, pool] of pools.entries()) {
      const t0 = performance.now();
      for (let i = 0; i < CALLS; i++) await pool.gradientBatch(xs, out);
      times[p].push((performance.now() - t0) / CALLS);
    }
  }
  const [one, two] = times.map(median);
  console.log(`[${sizes}] batch ${M}: 1 thread ${one.toFixed(2)} ms, 2 threads ${two.toFixed(2)} ms, speed-up ${(one / two).toFixed(2)}×`);
  for (const pool of pools) await pool.dispose();
}
