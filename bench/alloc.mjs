/**
 * Allocation check, reported and not asserted: `node --expose-gc bench/alloc.mjs <contender>
 * [--shape S3] [--calls 100000]`. Runs `gradient(x, out)` many times with one input and one
 * preallocated `out`, and prints one JSON line with
 * - the JS heap retained (heapUsed after a full gc, before vs after the calls),
 * - how many garbage collections ran during the calls (a hot path that allocates nothing triggers
 *   none, so this catches short-lived garbage that the retained figure hides),
 * - WebAssembly memory before and after (the engine's own figure when it gives one).
 */
import { PerformanceObserver } from "node:perf_hooks";
import { finish, parseOptions, quietConsole } from "./child-io.mjs";
import { contender } from "./contenders/index.mjs";
import { makeNetwork } from "./shapes.mjs";

quietConsole();
const { positional, options } = parseOptions(process.argv.slice(2));
const [name] = positional;
const shape = options.shape ?? "S3";
const calls = Number(options.calls ?? 100000);
const result = { contender: name, shape, calls, status: "ERROR" };

/** Bytes of WebAssembly memory behind a contender, when it has an engine that says. */
function wasmBytes(impl) {
  const engine = impl.engine;
  if (typeof engine?.memoryBytes === "number") return engine.memoryBytes;
  return engine?.memory?.buffer?.byteLength;
}

function fullGc() {
  globalThis.gc();
  globalThis.gc();
}

try {
  if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
  const net = makeNetwork(shape);
  const entry = contender(name);
  const module = await entry.load();
  const impl = await module.create(net, entry.options);
  const FloatArray = impl.precision === "f64" ? Float64Array : Float32Array;
  const x = FloatArray.from(net.x);
  const out = new FloatArray(net.sizes[0]);
  for (let i = 0; i < 1000; i++) impl.gradient(x, out); // past the first, unoptimised calls

  let gcCount = 0;
  const observer = new PerformanceObserver((list) => {
    gcCount += list.getEntries().length;
  });
  fullGc();
  await new Promise((resolve) => setImmediate(resolve));
  const before = process.memoryUsage();
  const wasmBefore = wasmBytes(impl);
  observer.observe({ entryTypes: ["gc"] });

  const t0 = performance.now();
  for (let i = 0; i < calls; i++) impl.gradient(x, out);
  const elapsedMs = performance.now() - t0;
  const heapBeforeGc = process.memoryUsage().heapUsed;
  // gc entries are delivered asynchronously: let them arrive before stopping the observer.
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  const gcDuringCalls = gcCount;

  fullGc();
  const after = process.memoryUsage();
  Object.assign(result, {
    status: "ok",
    elapsedMs,
    heapUsedBefore: before.heapUsed,
    heapUsedAfter: after.heapUsed,
    heapUsedDelta: after.heapUsed - before.heapUsed,
    heapGrowthBeforeGc: heapBeforeGc - before.heapUsed,
    gcDuringCalls,
    externalDelta: after.external - before.external,
    arrayBuffersDelta: after.arrayBuffers - before.arrayBuffers,
    wasmBytesBefore: wasmBefore,
    wasmBytesAfter: wasmBytes(impl),
  });
} catch (error) {
  result.error = String(error?.stack ?? error).split("\n").slice(0, 4).join("\n");
}
finish(result);
