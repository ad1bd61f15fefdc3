// mlpgrad/bullmq with the real parts: a redis-server started here (tests/redis.ts), BullMQ, and worker
// processes (tests/fixtures/bullmq-worker.ts) started with child_process. Checks: 10⁵ rows of a
// 100-256-256-1 network equal one process's gradientBatch bit for bit, in order; every method against
// the plain-f64 reference (tests/reference.ts) through a sandboxed processor, from an async iterable;
// a worker SIGKILLed mid-job → the run completes with every row once; a bad row → the job fails once
// with E_NONFINITE and the row, the others complete; Redis stopped and restarted (append-only file on)
// between enqueue and processing → nothing lost; the same runId twice → no job runs twice; abort; bad options.
// Without a redis-server binary the suite says "skipped: no redis-server" and registers nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Queue } from "bullmq";
import { createEngine, type MLP, type MLPSpec } from "../src/index.js";
import {
  ModelCache,
  RunError,
  createProcessor,
  decodeValues,
  encodeValues,
  parseFailure,
  processRows,
  runRows,
  type RunProgress,
  type RowsJobData,
} from "../src/bullmq/index.js";
import { closeTo, engines, randomCase, rng } from "./helpers.js";
import { forward, gradient as refGradient, jacobian as refJacobian } from "./reference.js";
import { RedisServer, hasRedis, track } from "./redis.js";

const WORKER = fileURLToPath(new URL("./fixtures/bullmq-worker.js", import.meta.url));
// Short locks, so a killed worker's job is found stalled in about 2 s instead of 30.
const FAST_STALL = { lockDuration: 1500, stalledInterval: 500, maxStalledCount: 2 };
const BIG = [100, 256, 256, 1];

/** A running worker process and the lines it has printed. */
interface WorkerProcess {
  child: ChildProcess;
  lines: string[];
  /** Called with each line as it arrives (set it to act at once, e.g. to kill the worker mid-job). */
  onLine?: (line: string) => void;
}

async function startWorker(port: number, queue: string, mode: "inprocess" | "sandboxed" | "bundle" = "inprocess", options: object = FAST_STALL): Promise<WorkerProcess> {
  const child = track(spawn(process.execPath, [WORKER, String(port), queue, mode, JSON.stringify(options)], { stdio: ["ignore", "pipe", "inherit"] }));
  const worker: WorkerProcess = { child, lines: [] };
  let partial = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop()!;
    for (const line of parts) {
      worker.lines.push(line);
      worker.onLine?.(line);
    }
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("worker not ready within 20 s")), 20_000);
    worker.onLine = (line) => {
      if (line === "ready") {
        clearTimeout(timer);
        resolve();
      }
    };
    child.once("exit", (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
  });
  worker.onLine = undefined;
  return worker;
}

async function stopWorkers(workers: WorkerProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    ),
  );
}

/** Resolves when `predicate` holds, polling; rejects after `ms`. */
async function until(predicate: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A hang is a failure too: rejects after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Asserts equality element by element (Object.is), naming the first difference. */
function same(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.unreachable(`${what}[${i}] (row ${Math.floor(i / 100)}): got ${actual[i]}, expected ${expected[i]} (gradientBatch in one process)`);
  }
}

function inputs(m: number, n: number, seed: number): Float32Array {
  const random = rng(seed);
  const xs = new Float32Array(m * n);
  for (let i = 0; i < xs.length; i++) xs[i] = random() * 4 - 2;
  return xs;
}

const connection = (port: number) => ({ host: "127.0.0.1", port, maxRetriesPerRequest: null });

function queueOn(port: number, name: string): Queue {
  const queue = new Queue(name, { connection: connection(port) });
  queue.on("error", () => {}); // connection errors while Redis restarts; ioredis reconnects
  return queue;
}

const starts = (workers: WorkerProcess[], id: string): number => workers.reduce((n, w) => n + w.lines.filter((l) => l === `start ${id}`).length, 0);

// No Redis needed: the wire format and the processor's checks.
test("rows and results survive base64 bit for bit (f32, f64, −0, subnormals, NaN payload kept)", () => {
  const f64 = new Float64Array([0, -0, 5e-324, -1.5, Math.PI, 1e308, NaN]);
  same(decodeValues(encodeValues(f64), "f64", "t"), f64, "f64");
  const f32 = new Float32Array([0, -0, 1e-45, 3.4e38, -1 / 3]);
  same(decodeValues(encodeValues(f32.subarray(1, 4)), "f32", "t"), f32.subarray(1, 4), "f32 view");
  assert.throws(() => decodeValues(encodeValues(f32).slice(0, 7), "f32", "rows"), /not a whole number of f32 values/);
  assert.equal(parseFailure("[E_NONFINITE row 12] bad"), { code: "E_NONFINITE", row: 12, message: "bad" });
  assert.equal(parseFailure("job stalled more than allowable limit"), { code: "E_JOB", message: "job stalled more than allowable limit" });
});

test("processRows refuses bad job data with BullMQ's UnrecoverableError and the MLPError code", async () => {
  const { spec } = randomCase([3, 4, 1], "tanh", "f64", 5);
  const models = new ModelCache(createEngine({ simd: true }), 2);
  const good: RowsJobData = { format: "mlpgrad-rows/1", model: { json: spec as never }, method: "gradient", dtype: "f64", first: 10, count: 2, inputSize: 3, rows: encodeValues(new Float64Array([1, 2, 3, 4, NaN, 6])) };
  const cases: [Partial<RowsJobData>, RegExp][] = [
    [{}, /^\[E_NONFINITE row 11\] row 11 of the run \(row 1 of job j\), column 1, is NaN/],
    [{ format: "other" as never }, /^\[E_INPUT\] job data: format "other"/],
    [{ method: "hessian" as never }, /^\[E_INPUT\] job data: method "hessian"/],
    [{ count: 3 }, /^\[E_INPUT\] job j: expected 3 rows × 3 = 9 numbers, got 6/],
    [{ inputSize: 2 }, /^\[E_INPUT\] job j: rows have 2 numbers each, but the model's n_1 is 3/],
    [{ model: { json: { ...spec, sizes: [3, 5, 1] } as never } }, /^\[E_SHAPE\] model \(inline JSON\): layer 2 weights/],
    [{ model: { json: spec as never, hash: "0".repeat(64) } }, /^\[E_JOB\] model \(inline JSON\) has SHA-256 [0-9a-f]{64}, but the run was enqueued for 0{64}/],
    [{ model: { path: "/nonexistent/model.json" } }, /ENOENT/],
  ];
  for (const [change, pattern] of cases) {
    try {
      await processRows({ id: "j", data: { ...good, ...change } }, models);
      assert.unreachable(`no error for ${JSON.stringify(change)}`);
    } catch (error) {
      const e = error as Error;
      assert.match(e.message, pattern);
      // A missing file may appear later (a shared mount): that one is retried, the rest are not.
      assert.is(e.name, /ENOENT/.test(e.message) ? "Error" : "UnrecoverableError", e.message);
    }
  }
});

test("processRows: jobs longer than a slice equal one gradientBatch bit for bit (SIMD and scalar, f32 and f64), and a bad row past the first slice is named right", async () => {
  for (const { name, engine } of await engines()) {
    for (const precision of ["f32", "f64"] as const) {
      const { spec } = randomCase([3, 9, 1], "tanh", precision, 7);
      const net = engine.createMLP(spec);
      const models = new ModelCache(engine, 1);
      const count = 1100; // three slices of SLICE_ROWS = 512, the last partial
      const xs = precision === "f32" ? inputs(count, 3, 11) : Float64Array.from(inputs(count, 3, 11), (v) => v / 3);
      const data: RowsJobData = { format: "mlpgrad-rows/1", model: { json: spec as never }, method: "gradient", dtype: precision, first: 5000, count, inputSize: 3, rows: encodeValues(xs) };
      for (const method of ["gradient", "value"] as const) {
        const result = await processRows({ id: "s", data: { ...data, method } }, models);
        assert.is(result.dtype, precision);
        same(decodeValues(result.data, result.dtype, "result"), method === "gradient" ? net.gradientBatch(xs) : net.forwardBatch(xs), `${name} ${precision} ${method}`);
      }
      xs[555 * 3 + 2] = Infinity;
      for (const method of ["gradient", "jacobian"] as const) {
        const error = await processRows({ id: "s", data: { ...data, method, rows: encodeValues(xs) } }, models).then(() => undefined, (e: Error) => e);
        assert.match(error?.message ?? "", /^\[E_NONFINITE row 5555\] row 5555 of the run \(row 555 of job s\), column 2, is Infinity/, `${name} ${precision} ${method}`);
      }
    }
  }
});

test("the mlpgrad/bullmq bundles (ESM and CJS) export the API, keep bullmq external, and point at a sandboxed processor", async () => {
  const esm = (await import("mlpgrad/bullmq")) as typeof import("../src/bullmq/index.js");
  const cjs = createRequire(import.meta.url)("mlpgrad/bullmq") as typeof import("../src/bullmq/index.js");
  for (const [name, api] of [["esm", esm], ["cjs", cjs]] as const) {
    for (const key of ["runRows", "createProcessor", "processRows", "RunError", "encodeValues"] as const) assert.type(api[key], "function", `${name} ${key}`);
    assert.match(api.processorFile, /dist[\\/]bullmq[\\/]sandboxed\.js$/, name);
    assert.ok(existsSync(api.processorFile), `${name}: ${api.processorFile} exists`);
  }
  const sandboxed = (await import(pathToFileURL(esm.processorFile).href)) as { default: unknown };
  assert.type(sandboxed.default, "function");
  const bundleDir = dirname(esm.processorFile);
  assert.match(readFileSync(join(bundleDir, "index.js"), "utf8"), /from "bullmq"/);
  assert.match(readFileSync(join(bundleDir, "index.cjs"), "utf8"), /require\("bullmq"\)/);
});

test("ModelCache: one network per model text in a process (path, URL and inline share it), a failed load is retried, the oldest is disposed past the limit", async () => {
  const engine = await createEngine({ simd: true });
  const { spec } = randomCase([5, 4, 1], "tanh", "f32", 21);
  const json = engine.createMLP(spec).toJSON();
  const dir = mkdtempSync(join(tmpdir(), "mlpgrad-models-"));
  const path = join(dir, "model.json");
  writeFileSync(path, JSON.stringify(json));
  let served = 0;
  const server = createServer((request, response) => {
    if (request.url === "/model.json") {
      served++;
      response.end(JSON.stringify(json));
    } else {
      response.statusCode = 404;
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const models = new ModelCache(engine, 2);
    const [a, b, c] = await Promise.all([models.get({ path }), models.get({ url: `${base}/model.json` }), models.get({ json })]);
    assert.ok(a === b && b === c, "the same text gives the same network");
    await models.get({ url: `${base}/model.json` });
    assert.is(served, 1, "a URL is fetched once per process");
    const missing = await models.get({ url: `${base}/missing.json` }).then(() => undefined, (e: Error) => e);
    assert.is(missing?.name, "Error", "HTTP 404 is an ordinary error: BullMQ retries it");
    assert.match(missing?.message ?? "", /^\[E_JOB\] model http:\/\/127\.0\.0\.1:\d+\/missing\.json: HTTP 404/);
    // Two other models push the first out (limit 2): it is disposed.
    await models.get({ json: randomCase([3, 2, 1], "tanh", "f32", 22).spec as never });
    await models.get({ json: randomCase([3, 3, 1], "tanh", "f32", 23).spec as never });
    await new Promise((r) => setTimeout(r, 0));
    assert.ok(a.isDisposed, "the least recently used network is disposed");
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

if (!hasRedis()) {
  console.log("skipped: no redis-server (install Debian's redis-server to run the mlpgrad/bullmq queue tests)");
} else {
  let redis: RedisServer;
  let modelPath: string;
  let big: MLP;
  let bigSpec: MLPSpec;

  test.before(async () => {
    redis = await RedisServer.start();
    const engine = await createEngine({ simd: true });
    bigSpec = randomCase(BIG, ["tanh", "softplus", "sigmoid"], "f32", 12).spec;
    big = engine.createMLP(bigSpec);
    modelPath = join(redis.dir, "model.json");
    writeFileSync(modelPath, JSON.stringify(big.toJSON()));
  });

  test.after(async () => {
    await redis?.dispose();
  });

  test("10⁵ rows of 100-256-256-1 on 3 worker processes equal gradientBatch bit for bit, in order", async () => {
    const m = 100_000;
    const xs = inputs(m, BIG[0], 1);
    const expected = big.gradientBatch(xs);
    // BullMQ's default locks (30 s) here: the short ones of FAST_STALL are for the SIGKILL test.
    const workers = await Promise.all([0, 1, 2].map(() => startWorker(redis.port, "big", "inprocess", {})));
    const queue = queueOn(redis.port, "big");
    try {
      const seen: RunProgress[] = [];
      const result = await within(runRows(queue, { model: { path: modelPath }, xs, jobSize: 5000, maxInFlight: 6, onProgress: (p) => seen.push(p) }), 120_000, "10⁵ rows");
      same(result.output, expected, "gradients");
      assert.is(result.rows, m);
      assert.is(result.width, BIG[0]);
      assert.ok(result.output instanceof Float32Array);
      assert.is(seen.length, 20, "one progress call per job");
      assert.is(seen[seen.length - 1].rowsDone, m);
      assert.ok(seen.every((p, i) => i === 0 || p.rowsDone > seen[i - 1].rowsDone), "progress only grows");
      assert.ok(seen.every((p) => p.jobsInFlight <= 6), "never more than maxInFlight jobs");
      // Every worker took part, and no job ran twice.
      for (const w of workers) assert.ok(w.lines.some((l) => l.startsWith("done ")), "each worker ran jobs");
      const done = workers.flatMap((w) => w.lines.filter((l) => l.startsWith("done ")));
      assert.is(new Set(done).size, 20);
      assert.is(done.length, 20);
      assert.is(await queue.count(), 0, "gathered jobs are removed");
    } finally {
      await queue.close();
      await stopWorkers(workers);
    }
  });

  test("value, jacobian, vjp and gradient against the f64 reference, on sandboxed processors (source and bundle), from an async iterable", async () => {
    const workers = [await startWorker(redis.port, "methods", "sandboxed"), await startWorker(redis.port, "methods", "bundle")];
    const queue = queueOn(redis.port, "methods");
    try {
      const wide = randomCase([5, 7, 3], ["tanh", "sigmoid"], "f64", 3);
      const scalar = randomCase([7, 17, 1], ["softplus", "tanh"], "f64", 4);
      const m = 67;
      const random = rng(9);
      const rowsOf = (n: number) => Array.from({ length: m }, () => Array.from({ length: n }, () => random() * 2 - 1));
      const xw = rowsOf(5);
      const xg = rowsOf(7);
      async function* stream(rows: number[][]) {
        for (const row of rows) yield row;
      }
      const v = [0.5, -2, 1.25];
      const value = await runRows(queue, { model: wide.spec, xs: stream(xw), method: "value", jobSize: 17 });
      const jac = await runRows(queue, { model: wide.spec, xs: xw.flat(), method: "jacobian", jobSize: 17 });
      const vjp = await runRows(queue, { model: wide.spec, xs: Float64Array.from(xw.flat()), method: "vjp", v, jobSize: 8 });
      const grad = await runRows(queue, { model: { json: JSON.stringify(scalar.spec) }, xs: stream(xg), jobSize: 5 });
      assert.is(value.rows, m);
      assert.is(jac.width, 15);
      for (const w of workers) assert.ok(w.lines.some((l) => l.startsWith("completed ")), "both sandboxed workers (source, bundle) ran jobs");
      for (let i = 0; i < m; i++) {
        const J = refJacobian(wide.ref, xw[i]);
        closeTo(value.output.subarray(i * 3, i * 3 + 3), forward(wide.ref, xw[i]), 1e-13, `value row ${i}`);
        closeTo(jac.output.subarray(i * 15, i * 15 + 15), J.flat(), 1e-12, `jacobian row ${i}`);
        const vJ = [0, 1, 2, 3, 4].map((c) => J.reduce((s, row, k) => s + v[k] * row[c], 0));
        closeTo(vjp.output.subarray(i * 5, i * 5 + 5), vJ, 1e-12, `vjp row ${i}`);
        closeTo(grad.output.subarray(i * 7, i * 7 + 7), refGradient(scalar.ref, xg[i]), 1e-12, `gradient row ${i}`);
      }
    } finally {
      await queue.close();
      await stopWorkers(workers);
    }
  });

  test("a worker SIGKILLed mid-job: the run completes, every row exactly once, bit for bit", async () => {
    const m = 24_000;
    const xs = inputs(m, BIG[0], 2);
    const expected = big.gradientBatch(xs);
    const workers = await Promise.all([0, 1].map(() => startWorker(redis.port, "kill")));
    const queue = queueOn(redis.port, "kill");
    try {
      let rowsDone = 0;
      const run = runRows(queue, { model: { path: modelPath }, xs, jobSize: 2000, maxInFlight: 4, runId: "kill", attempts: 3, backoff: { type: "fixed", delay: 100 }, onProgress: (p) => (rowsDone = p.rowsDone) });
      // Kill worker 0 the moment it starts its second job (its first has completed), so it dies mid-job.
      const victim = workers[0];
      let killedJob = "";
      const killed = new Promise<void>((resolve) => {
        victim.onLine = (line) => {
          if (line.startsWith("start ") && victim.lines.filter((l) => l.startsWith("start ")).length === 2) {
            victim.child.kill("SIGKILL");
            killedJob = line.slice(6);
            resolve();
          }
        };
      });
      await within(killed, 60_000, "worker 0 to start a second job");
      const result = await within(run, 90_000, "the run after a SIGKILL");
      same(result.output, expected, "gradients");
      assert.is(rowsDone, m, "progress counted every row once");
      assert.is(result.failures.length, 0);
      // The killed job was found stalled and run again, by the other worker.
      assert.not.ok(victim.lines.includes(`done ${killedJob}`), `worker 0 was killed before it finished ${killedJob}`);
      assert.ok(workers[1].lines.includes(`done ${killedJob}`), `worker 1 redid ${killedJob} (its lines: ${workers[1].lines.join(", ")})`);
      assert.is(starts(workers, killedJob), 2, "the killed job ran twice (at least once delivery), its rows are in the result once");
    } finally {
      await queue.close();
      await stopWorkers(workers);
    }
  });

  test("a bad row: its job fails once with E_NONFINITE and the row, the other jobs complete", async () => {
    const workers = [await startWorker(redis.port, "bad")];
    const queue = queueOn(redis.port, "bad");
    try {
      const { spec, ref } = randomCase([7, 5, 1], ["tanh", "sigmoid"], "f64", 6);
      const m = 250;
      const xs = Float64Array.from({ length: m * 7 }, (_, i) => Math.sin(i));
      xs[123 * 7 + 4] = NaN;
      let error: unknown;
      try {
        await within(runRows(queue, { model: spec, xs, jobSize: 50, runId: "bad", attempts: 5, backoff: { type: "fixed", delay: 50 } }), 30_000, "bad row");
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof RunError, `expected a RunError, got ${String(error)}`);
      const e = error as RunError;
      assert.is(e.code, "E_NONFINITE");
      assert.match(e.message, /job bad\.100-150 \(rows 100\.\.149\) failed: row 123 of the run \(row 23 of job bad\.100-150\), column 4, is NaN/);
      assert.match(e.message, /the other 4 jobs completed/);
      assert.equal(e.failures.map((f) => [f.jobId, f.code, f.row]), [["bad.100-150", "E_NONFINITE", 123]]);
      assert.is(starts(workers, "bad.100-150"), 1, "an unrecoverable job is not retried");
      const out = e.result.output;
      for (let i = 0; i < m; i++) {
        const row = out.subarray(i * 7, i * 7 + 7);
        if (i >= 100 && i < 150) assert.ok(row.every(Number.isNaN), `row ${i} of the failed job is NaN`);
        else closeTo(row, refGradient(ref, xs.subarray(i * 7, i * 7 + 7)), 1e-12, `row ${i}`);
      }
      // With failures: "collect" the same run resolves, listing the failure.
      const collected = await runRows(queue, { model: spec, xs, jobSize: 50, failures: "collect" });
      assert.is(collected.failures.length, 1);
      assert.is(collected.failures[0].row, 123);
    } finally {
      await queue.close();
      await stopWorkers(workers);
    }
  });

  for (const appendOnly of [true, false]) {
    test(`Redis stopped and restarted between enqueue and processing (${appendOnly ? "append-only file: Redis keeps the jobs" : "no persistence: the client adds them again"}): nothing lost`, async () => {
      const aof = await RedisServer.start(appendOnly);
      const queue = queueOn(aof.port, "restart");
      const workers: WorkerProcess[] = [];
      try {
        const m = 3000;
        const xs = inputs(m, BIG[0], 3);
        const expected = big.gradientBatch(xs);
        const run = runRows(queue, { model: { path: modelPath }, xs, jobSize: 500, maxInFlight: 10, pollInterval: 200 });
        await until(async () => (await queue.getWaitingCount()) === 6, 20_000, "6 waiting jobs");
        await aof.restart();
        // With the append-only file Redis reloads every job; without it the queue is empty until the client's poll adds them again.
        assert.is(await within(queue.getWaitingCount(), 20_000, "count after restart"), appendOnly ? 6 : 0, "jobs in Redis after the restart");
        workers.push(...(await Promise.all([0, 1].map(() => startWorker(aof.port, "restart")))));
        const result = await within(run, 60_000, "the run after a restart");
        same(result.output, expected, "gradients");
        const done = workers.flatMap((w) => w.lines.filter((l) => l.startsWith("done ")));
        assert.is(done.length, 6, "each job ran once");
      } finally {
        await queue.close();
        await stopWorkers(workers);
        await aof.dispose();
      }
    });
  }

  test("the same runId enqueued again adds no job twice; an abort removes the waiting jobs", async () => {
    const queue = queueOn(redis.port, "again");
    const workers: WorkerProcess[] = [];
    try {
      const { spec } = randomCase([5, 3, 1], "tanh", "f32", 8);
      const xs = inputs(40, 5, 4);
      // Nobody works on "again" yet: abort once the jobs wait.
      const controller = new AbortController();
      const aborted = runRows(queue, { model: spec, xs, jobSize: 10, runId: "r1", signal: controller.signal });
      await until(async () => (await queue.getWaitingCount()) === 4, 10_000, "4 waiting jobs");
      controller.abort();
      let reason: unknown;
      await aborted.catch((e) => (reason = e));
      assert.is((reason as Error)?.name, "AbortError");
      assert.is(await queue.count(), 0, "waiting jobs removed on abort");

      workers.push(await startWorker(redis.port, "again"));
      const first = await runRows(queue, { model: spec, xs, jobSize: 10, runId: "r2", keepJobs: true });
      const second = await runRows(queue, { model: spec, xs, jobSize: 10, runId: "r2", keepJobs: true });
      same(second.output, first.output, "second run");
      assert.is(workers[0].lines.filter((l) => l.startsWith("start ")).length, 4, "4 jobs ran, once each");
      assert.is(await queue.getCompletedCount(), 4);
    } finally {
      await queue.close();
      await stopWorkers(workers);
    }
  });

  test("bad options are MLPErrors before anything is enqueued", async () => {
    const queue = queueOn(redis.port, "options");
    try {
      const { spec } = randomCase([3, 2, 1], "tanh", "f32", 1);
      const cases: [object, string, RegExp][] = [
        [{ jobSize: 0 }, "E_OPTIONS", /jobSize: expected a positive integer, got 0/],
        [{ runId: "a:b" }, "E_OPTIONS", /runId: expected a non-empty string without ":"/],
        [{ method: "hvp" }, "E_OPTIONS", /method: expected one of gradient, value, jacobian, vjp/],
        [{ xs: [1, 2, 3, 4] }, "E_INPUT", /xs: expected m rows of n_1 = 3 numbers/],
        [{ model: { url: "https://example.invalid/m.json" } }, "E_OPTIONS", /inputSize: a \{ path \} or \{ url \} model/],
        [{ method: "vjp" }, "E_INPUT", /v: method "vjp" needs v/],
      ];
      for (const [change, code, pattern] of cases) {
        const error = await runRows(queue, { model: spec, xs: [1, 2, 3], ...change }).then(() => undefined, (e: unknown) => e as { code?: string; message?: string });
        assert.is(error?.code, code, `${JSON.stringify(change)}: ${error?.message}`);
        assert.match(error?.message ?? "", pattern);
      }
      assert.is(await queue.count(), 0);
      // A short row after two whole jobs: E_INPUT naming it, and the two enqueued jobs taken back.
      async function* rows() {
        for (let i = 0; i < 25; i++) yield [i, 1, 2];
        yield [1, 2];
      }
      const error = await runRows(queue, { model: spec, xs: rows(), jobSize: 10 }).then(() => undefined, (e: { code?: string; message?: string }) => e);
      assert.is(error?.code, "E_INPUT");
      assert.match(error?.message ?? "", /xs row 25: expected n_1 = 3 numbers, got 2/);
      assert.is(await queue.count(), 0, "jobs enqueued before the bad row are removed");
    } finally {
      await queue.close();
    }
  });
}

// createProcessor is the in-process form the worker fixture uses; keep it exported and callable.
assert.type(createProcessor, "function");

test.run();
