/**
 * A/B of two builds of mlpgrad on one input split across threads (pool.gradient), in one process: for
 * each shape and precision, build A's and build B's pools (`adaptiveSplit: false`, `minSplitBytes: 0`,
 * as bench/split.mjs) timed interleaved in short blocks — A one thread, A split, B one thread, B split,
 * the order of A and B swapped every round — so a busy neighbour slows all four alike. Prints the medians,
 * each build's one ÷ split ratio, B ÷ A per way, the load average and the share of CPU time idle.
 *
 *   node bench/ab-split.mjs <dir of build A's dist> [dir of build B's dist = ./dist] [--shapes S4,S5]
 *        [--precision f32,f64] [--threads 2] [--rounds 31] [--block-ms 20]
 *
 * Build A is usually a copy of dist/ from before a change (`cp -r dist /tmp/before`); both need their
 * pool-worker.node.js beside mlpgrad.node.js (a copied dist/ has it).
 */
import { loadavg } from "node:os";
import { makeNetwork } from "./shapes.mjs";
import { cpuTimes } from "./interleave.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at < 0 ? fallback : args.splice(at, 2)[1];
};
const shapes = option("shapes", "S4,S5").split(",");
const precisions = option("precision", "f32,f64").split(",");
const threads = Number(option("threads", 2));
const rounds = Number(option("rounds", 31));
const blockMs = Number(option("block-ms", 20));
if (args.length < 1) {
  console.error("usage: node bench/ab-split.mjs <dist dir A> [dist dir B] [--shapes S4,S5] [--precision f32,f64] [--threads 2] [--rounds 31] [--block-ms 20]");
  process.exit(2);
}
const url = (dir) => new URL(`${dir.replace(/\/$/, "")}/mlpgrad.node.js`, `file://${process.cwd()}/`).href;
const libs = { A: await import(url(args[0])), B: await import(url(args[1] ?? new URL("../dist", import.meta.url).pathname)) };

const median = (values) => values.slice().sort((a, b) => a - b)[values.length >> 1];

async function measure(shape, precision) {
  const net = makeNetwork(shape);
  const spec = { sizes: net.sizes, layers: net.layers, activation: "sigmoid", precision };
  const n = net.sizes[0];
  const Vector = precision === "f32" ? Float32Array : Float64Array;
  const sides = {};
  for (const name of ["A", "B"]) {
    const pool = await libs[name].createMLPPool({ spec, threads, minSplitBytes: 0, adaptiveSplit: false });
    const one = new Vector(n);
    const two = new Vector(n);
    pool.network.gradient(net.x, one);
    await pool.gradient(net.x, two);
    for (let i = 0; i < n; i++) if (!Object.is(one[i], two[i])) throw new Error(`${name} ${shape} ${precision}: the split gradient differs from one thread's at [${i}]`);
    sides[name] = { pool, one, two, times: { one: [], two: [] } };
  }
  // Calls per block, from a warm-up of all four.
  let start = performance.now();
  let calls = 0;
  while (performance.now() - start < 200) {
    for (const side of Object.values(sides)) {
      side.pool.network.gradient(net.x, side.one);
      await side.pool.gradient(net.x, side.two);
    }
    calls++;
  }
  const perBlock = Math.max(3, Math.round((blockMs * calls) / ((performance.now() - start) / 4)));
  const load = loadavg()[0];
  const cpu0 = cpuTimes();
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 === 0 ? ["A", "B"] : ["B", "A"]) {
      const side = sides[name];
      start = performance.now();
      for (let i = 0; i < perBlock; i++) side.pool.network.gradient(net.x, side.one);
      side.times.one.push(((performance.now() - start) / perBlock) * 1000);
      start = performance.now();
      for (let i = 0; i < perBlock; i++) await side.pool.gradient(net.x, side.two);
      side.times.two.push(((performance.now() - start) / perBlock) * 1000);
    }
  }
  const cpu1 = cpuTimes();
  const idle = cpu0 && cpu1 ? (cpu1.idle - cpu0.idle) / Math.max(1, cpu1.total - cpu0.total) : NaN;
  const m = {};
  for (const name of ["A", "B"]) {
    m[name] = { one: median(sides[name].times.one), two: median(sides[name].times.two) };
    await sides[name].pool.dispose();
  }
  const f = (v) => v.toFixed(1).padStart(7);
  console.log(
    `${`${shape} ${precision}`.padEnd(8)}  A one ${f(m.A.one)} µs, ${threads} threads ${f(m.A.two)} µs ×${(m.A.one / m.A.two).toFixed(2)}` +
      `   B one ${f(m.B.one)} µs, ${threads} threads ${f(m.B.two)} µs ×${(m.B.one / m.B.two).toFixed(2)}` +
      `   B/A one ${(m.B.one / m.A.one).toFixed(3)}, split ${(m.B.two / m.A.two).toFixed(3)}   load ${load.toFixed(2)}→${loadavg()[0].toFixed(2)}, idle ${(100 * idle).toFixed(0)}%`,
  );
}

console.log(`node ${process.version}; A = ${args[0]}, B = ${args[1] ?? "./dist"}; ${threads} threads; medians of ${rounds} rounds of interleaved blocks of ≈ ${blockMs} ms (µs per gradient)`);
for (const precision of precisions) for (const shape of shapes) await measure(shape, precision);
