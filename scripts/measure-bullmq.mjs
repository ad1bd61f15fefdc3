// Measurement (not a test): mlpgrad/bullmq throughput and overhead on this machine. A redis-server of its
// own (free port, temporary dir, no persistence), a 100-256-256-1 f32 network (the tests' shape), and the
// gradients of M rows: in process (one gradientBatch call) against runRows on 1 and 2 worker processes
// (in-process processor, concurrency 1), for several job sizes.
//
// Two views, because the machine is shared (other processes come and go):
//  - wall time: rows/s, and T_in-process / T per round (both measured back to back in the same round,
//    so drift hits both), median over rounds;
//  - CPU time, which other processes do not inflate: the CPU of client + workers + Redis for a run
//    against the CPU of the in-process call. The difference, per job, is fitted as a + b·S (a per job,
//    b per row: base64, JSON framing, copies through Redis), which gives the job size S above which
//    the overhead is under 5%: (a + bS) / (cS) < 5%, c the compute CPU per row.
// The load average is printed before and after.
// Run after `npm run build`: node scripts/measure-bullmq.mjs [rounds] [rows] [sizes, e.g. 100-256-256-1] [worker concurrency]
// (it also runs as a worker: node scripts/measure-bullmq.mjs --worker <port> <queue> <concurrency>)
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { contentHash, createProcessor, runRows } from "../dist/bullmq/index.js";
import { createEngine } from "../dist/mlpgrad.js";

const connection = (port) => ({ host: "127.0.0.1", port, maxRetriesPerRequest: null });
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

if (process.argv[2] === "--worker") {
  const [port, queueName, concurrency] = process.argv.slice(3);
  // After each job: this process's CPU ms so far.
  const processRows = createProcessor();
  const timed = async (job) => {
    const result = await processRows(job);
    process.stdout.write(`cpu ${cpuMs()}\n`);
    return result;
  };
  const worker = new Worker(queueName, timed, { connection: connection(Number(port)), concurrency: Number(concurrency ?? 1) });
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
  const sizes = (process.argv[4] ?? "100-256-256-1").split("-").map(Number);
  const CONCURRENCY = Number(process.argv[5] ?? 1);
  const median = (v) => v.slice().sort((a, b) => a - b)[v.length >> 1];
  const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
  console.log(`load average before: ${load()}   (${ROUNDS} rounds, M = ${M} rows, network ${sizes.join("-")} f32, worker concurrency ${CONCURRENCY})`);

  const children = new Set();
  process.on("exit", () => children.forEach((c) => c.kill("SIGKILL")));
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
  // Given to runRows, so that a run does not re-read and hash the model (a per-run cost, ≈ 0.1 s for 20 MB).
  const hash = contentHash(readFileSync(path));
  const xs = Float32Array.from({ length: M * sizes[0] }, () => random() * 2);
  const net = (await createEngine()).createMLP(spec);
  const out = new Float32Array(M * sizes[0]);
  net.gradientBatch(xs, out);
  net.gradientBatch(xs, out);
  const local = () => {
    const c = cpuMs();
    const t = performance.now();
    net.gradientBatch(xs, out);
    return { wall: performance.now() - t, cpu: cpuMs() - c };
  };

  const queue = new Queue("measure", { connection: connection(port) });
  queue.on("error", () => {});
  const client = new Redis(connection(port));
  const redisCpu = async () => {
    const info = await client.info("cpu");
    const get = (k) => Number(new RegExp(`^${k}:([\\d.]+)`, "m").exec(info)[1]);
    return (get("used_cpu_user") + get("used_cpu_sys")) * 1000;
  };
  const script = fileURLToPath(import.meta.url);
  const workers = [];
  const workerCpu = new Map(); // last CPU ms each worker reported
  const startWorker = async () => {
    const child = spawn(process.execPath, [script, "--worker", String(port), "measure", String(CONCURRENCY)], { stdio: ["ignore", "pipe", "inherit"] });
    children.add(child);
    await lineFrom(child, /^ready$/m);
    child.stdout.on("data", (chunk) => {
      for (const m of String(chunk).matchAll(/^cpu ([\d.]+)$/gm)) workerCpu.set(child, Number(m[1]));
    });
    workers.push(child);
  };
  const sumWorkerCpu = () => [...workerCpu.values()].reduce((a, b) => a + b, 0);
  const distributed = async (jobSize) => {
    const w0 = sumWorkerCpu();
    const r0 = await redisCpu();
    const c0 = cpuMs();
    const t = performance.now();
    const result = await runRows(queue, { model: { path, hash }, inputSize: sizes[0], xs, jobSize, maxInFlight: 8, pollInterval: 5000 });
    const wall = performance.now() - t;
    const c1 = cpuMs();
    await new Promise((r) => setTimeout(r, 50)); // the last "cpu" line of each worker
    const parts = { client: c1 - c0, workers: sumWorkerCpu() - w0, redis: (await redisCpu()) - r0 };
    const cpu = parts.client + parts.workers + parts.redis;
    for (let i = 0; i < out.length; i++) if (!Object.is(result.output[i], out[i])) throw new Error(`row ${Math.floor(i / sizes[0])} differs from gradientBatch`);
    return { wall, cpu, parts };
  };

  const report = async (label, sizesHere) => {
    console.log(`\n${label}:`);
    console.log("job size   jobs    rows/s   wall vs     CPU µs a row beyond the kernels       CPU overhead");
    console.log("                            in-process  client   workers   Redis   (c = in-process)   all    workers only");
    const perSize = new Map(sizesHere.map((S) => [S, []]));
    const cLocal = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const S of sizesHere) {
        const l = local();
        const d = await distributed(S);
        perSize.get(S).push({ ...d, local: l });
        cLocal.push(l.cpu / M);
      }
    }
    const c = median(cLocal);
    const fits = { all: [], workers: [] };
    for (const S of sizesHere) {
      const runs = perSize.get(S);
      const jobs = Math.ceil(M / S);
      const us = (f) => (median(runs.map(f)) / M) * 1000;
      const client = us((d) => d.parts.client);
      const workersExtra = us((d) => d.parts.workers - d.local.cpu);
      const redisCpu = us((d) => d.parts.redis);
      const all = median(runs.map((d) => (d.cpu - d.local.cpu) / d.cpu));
      const workersOnly = median(runs.map((d) => (d.parts.workers - d.local.cpu) / d.parts.workers));
      fits.all.push([S, median(runs.map((d) => d.cpu - d.local.cpu)) / jobs]);
      fits.workers.push([S, median(runs.map((d) => d.parts.workers - d.local.cpu)) / jobs]);
      console.log(
        `${String(S).padStart(8)} ${String(jobs).padStart(6)} ${(M / median(runs.map((d) => d.wall)) * 1000).toFixed(0).padStart(9)} ${(median(runs.map((d) => d.local.wall / d.wall)) * 100).toFixed(0).padStart(9)}%  ${client.toFixed(1).padStart(7)} ${workersExtra.toFixed(1).padStart(9)} ${redisCpu.toFixed(1).padStart(7)}   (${(c * 1000).toFixed(1)})  ${(all * 100).toFixed(1).padStart(12)}% ${(workersOnly * 100).toFixed(1).padStart(9)}%`,
      );
    }
    return { fits, c };
  };

  /** Overhead per job = a + b·S (least squares), and the S above which (a + bS) / (cS) < 5%. */
  const threshold = (what, points, c) => {
    const n = points.length;
    const sx = points.reduce((s, [x]) => s + x, 0);
    const sy = points.reduce((s, [, y]) => s + y, 0);
    const sxx = points.reduce((s, [x]) => s + x * x, 0);
    const sxy = points.reduce((s, [x, y]) => s + x * y, 0);
    const b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    const a = (sy - b * sx) / n;
    const verdict = b / c >= 0.05 ? `the per-row part alone is ${((b / c) * 100).toFixed(1)}% of the compute: no job size brings it under 5%` : `under 5% from about ${Math.ceil(a / (0.05 * c - b))} rows a job`;
    console.log(`${what}: ${a.toFixed(2)} ms a job + ${(b * 1000).toFixed(2)} µs a row (compute ${(c * 1000).toFixed(1)} µs CPU a row): ${verdict}`);
  };

  await startWorker();
  await distributed(4096); // warm up: the worker loads the model, both sides tier up
  const one = await report("1 worker process", SIZES);
  threshold("CPU overhead, all processes", one.fits.all, one.c);
  threshold("CPU overhead, workers only (what limits N machines with the client and Redis elsewhere)", one.fits.workers, one.c);

  await startWorker();
  await distributed(4096);
  await report("2 worker processes", SIZES.filter((s) => s >= 1024));
  console.log(`\nload average after: ${load()}`);
  await queue.close();
  client.disconnect();
  for (const w of workers) w.kill("SIGTERM");
  redis.kill("SIGTERM");
  process.exit(0);
}

function lineFrom(child, pattern) {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk) => {
      text += chunk;
      if (pattern.test(text)) {
        child.stdout.off("data", onData);
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`child exited with ${code} before ${pattern}`)));
  });
}
