// Measurement (not a test): mlpgrad/bullmq throughput on this machine. A redis-server of its own (free
// port, temporary dir, no persistence), a 100-256-256-1 f32 network (the tests' shape), gradients of M
// rows: in process (one gradientBatch call) against runRows on 1 and 2 worker processes (in-process
// processor, concurrency 1), for several job sizes. The overhead of a job size is (T − T_in-process) / T
// with one worker; a least-squares fit T/jobs = a + b·S splits it into a per-job part a and a per-row
// part b (base64, Redis, copies), to be compared with the compute time c per row. Every figure is the
// median of ROUNDS runs; the load average is printed before and after (the machine is shared).
// Run after `npm run build`: node scripts/measure-bullmq.mjs [rounds] [rows]
// (it also runs as a worker: node scripts/measure-bullmq.mjs --worker <port> <queue>)
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue, Worker } from "bullmq";
import { createProcessor, runRows } from "../dist/bullmq/index.js";
import { createEngine } from "../dist/mlpgrad.js";

const connection = (port) => ({ host: "127.0.0.1", port, maxRetriesPerRequest: null });

if (process.argv[2] === "--worker") {
  const [port, queueName] = process.argv.slice(3);
  const worker = new Worker(queueName, createProcessor(), { connection: connection(Number(port)), concurrency: 1 });
  worker.on("error", () => {});
  await worker.waitUntilReady();
  process.stdout.write("ready\n");
  process.on("SIGTERM", () => worker.close().finally(() => process.exit(0)));
} else {
  await main();
}

async function main() {
  const ROUNDS = Number(process.argv[2] ?? 5);
  const M = Number(process.argv[3] ?? 20000);
  const SIZES = [64, 256, 1024, 4096, 16384].filter((s) => s <= M);
  const sizes = [100, 256, 256, 1];
  const median = (v) => v.slice().sort((a, b) => a - b)[v.length >> 1];
  const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
  console.log(`load average before: ${load()}   (${ROUNDS} rounds, M = ${M} rows, network ${sizes.join("-")} f32)`);

  const children = new Set();
  const cleanup = () => children.forEach((c) => c.kill("SIGKILL"));
  process.on("exit", cleanup);
  process.on("SIGINT", () => process.exit(130));
  process.on("SIGTERM", () => process.exit(143));
  const dir = mkdtempSync(join(tmpdir(), "mlpgrad-measure-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "inherit"] });
  children.add(redis);
  await lineFrom(redis, /Ready to accept connections/);

  // The network and the rows, seeded.
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const spec = {
    sizes,
    precision: "f32",
    activations: ["tanh", "softplus", "sigmoid"],
    layers: sizes.slice(1).map((n, i) => ({
      weights: Array.from({ length: n * sizes[i] }, () => Math.fround(random() / Math.sqrt(sizes[i]))),
      bias: Array.from({ length: n }, () => Math.fround(random() / 10)),
    })),
  };
  const path = join(dir, "model.json");
  writeFileSync(path, JSON.stringify(spec));
  const xs = Float32Array.from({ length: M * sizes[0] }, () => random() * 2);
  const net = (await createEngine()).createMLP(spec);

  // In process.
  const out = new Float32Array(M * sizes[0]);
  net.gradientBatch(xs, out);
  const local = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    net.gradientBatch(xs, out);
    local.push(performance.now() - t);
  }
  const tLocal = median(local);
  const c = tLocal / M;
  console.log(`in process, gradientBatch: ${(M / tLocal * 1000).toFixed(0)} rows/s (${(c * 1000).toFixed(1)} µs a row)`);

  const queue = new Queue("measure", { connection: connection(port) });
  queue.on("error", () => {});
  const script = fileURLToPath(import.meta.url);
  const workers = [];
  const startWorker = async () => {
    const child = spawn(process.execPath, [script, "--worker", String(port), "measure"], { stdio: ["ignore", "pipe", "inherit"] });
    children.add(child);
    await lineFrom(child, /^ready$/m);
    workers.push(child);
  };
  const timeRun = async (jobSize) => {
    const t = performance.now();
    const result = await runRows(queue, { model: { path }, xs, jobSize, maxInFlight: 8, pollInterval: 5000 });
    const ms = performance.now() - t;
    for (let i = 0; i < out.length; i++) if (!Object.is(result.output[i], out[i])) throw new Error(`row ${Math.floor(i / sizes[0])} differs from gradientBatch`);
    return ms;
  };

  await startWorker();
  await timeRun(4096); // warm up: the worker loads the model, both sides tier up
  const rows = [];
  console.log("\n1 worker process:");
  console.log("job size   jobs    rows/s   vs in-process   overhead   overhead per job");
  for (const S of SIZES) {
    const ms = [];
    for (let r = 0; r < ROUNDS; r++) ms.push(await timeRun(S));
    const T = median(ms);
    const jobs = Math.ceil(M / S);
    rows.push({ S, T, jobs });
    console.log(
      `${String(S).padStart(8)} ${String(jobs).padStart(6)} ${(M / T * 1000).toFixed(0).padStart(9)} ${((tLocal / T) * 100).toFixed(0).padStart(13)}% ${(((T - tLocal) / T) * 100).toFixed(1).padStart(9)}% ${(((T - tLocal) / jobs)).toFixed(2).padStart(12)} ms`,
    );
  }
  // (T − T_local)/jobs = a + b·S, least squares over the sizes.
  const pts = rows.map(({ S, T, jobs }) => [S, (T - tLocal) / jobs]);
  const n = pts.length;
  const sx = pts.reduce((s, [x]) => s + x, 0);
  const sy = pts.reduce((s, [, y]) => s + y, 0);
  const sxx = pts.reduce((s, [x]) => s + x * x, 0);
  const sxy = pts.reduce((s, [x, y]) => s + x * y, 0);
  const b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  const a = (sy - b * sx) / n;
  console.log(`fit: overhead per job = ${a.toFixed(2)} ms + ${(b * 1000).toFixed(1)} µs × rows   (compute: ${(c * 1000).toFixed(1)} µs a row)`);
  // Overhead share of a job of S rows: (a + bS) / (a + bS + cS) < 5%  ⇔  S > a / (0.05/0.95 · c − b)
  const limit = 0.05 / 0.95;
  console.log(b / c >= limit ? `the per-row part alone is ${((b / c) * 100).toFixed(1)}% of compute: no job size brings the overhead under 5%` : `overhead under 5% from about ${Math.ceil(a / (limit * c - b))} rows a job`);

  console.log("\n2 worker processes:");
  await startWorker();
  await timeRun(4096);
  for (const S of SIZES.filter((s) => s >= 1024)) {
    const ms = [];
    for (let r = 0; r < ROUNDS; r++) ms.push(await timeRun(S));
    const T = median(ms);
    console.log(`job size ${S}: ${(M / T * 1000).toFixed(0)} rows/s (${(tLocal / T).toFixed(2)}× in-process)`);
  }
  console.log(`\nload average after: ${load()}`);
  await queue.close();
  for (const w of workers) w.kill("SIGTERM");
  redis.kill("SIGTERM");
  process.exit(0);
}

function lineFrom(child, pattern) {
  return new Promise((resolve, reject) => {
    let text = "";
    child.stdout.on("data", (chunk) => {
      text += chunk;
      if (pattern.test(text)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`child exited with ${code} before ${pattern}`)));
  });
}
