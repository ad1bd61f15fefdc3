/**
 * The human-readable report: per mode a heading and its tables — single input (one table per shape),
 * batch (one table per shape), Jacobian (one table), pool (one table) — then cold start, allocation
 * and the target checklist. Pure string building from the summary (summary.mjs); run.mjs prints it.
 */
import { BASELINE } from "./contenders/index.mjs";

const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const grouped = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "–");
const percent = (value) => (Number.isFinite(value) ? `${Math.round(value * 100)}%` : "–");

/** µs with about four significant digits. */
function micros(value) {
  if (!Number.isFinite(value)) return "–";
  if (value >= 1000) return value.toFixed(0);
  if (value >= 100) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** A speed-up as "12.3×" with sensible precision. */
export function times(value) {
  if (!Number.isFinite(value)) return "–";
  if (value >= 100) return `${value.toFixed(0)}×`;
  if (value >= 10) return `${value.toFixed(1)}×`;
  return `${value.toFixed(2)}×`;
}

/** Lays out rows of cells in columns; `align` holds "l" or "r" per column. */
export function table(header, rows, align) {
  const widths = header.map((cell, k) => Math.max(cell.length, ...rows.map((row) => String(row[k]).length)));
  const pad = (cell, k) => (align[k] === "l" ? String(cell).padEnd(widths[k]) : String(cell).padStart(widths[k]));
  const line = (row) => row.map(pad).join("  ").trimEnd();
  return [line(header), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function targetCell(targets, shape, name, kind = "speedup") {
  return targets
    .filter((t) => t.kind === kind && t.shape === shape && (t.versus ?? t.contender) === name)
    .map((t) => (t.atMost !== undefined ? `≤${t.atMost}× ${t.verdict}` : `≥${t.atLeast}× ${t.verdict}`))
    .join(", ");
}

/** The note under a table for a contender that was not timed. */
function failureNote(name, result) {
  if (result.status === "FAILED") {
    return `  ${name}: FAILED, not timed: rel. error ${Number(result.relErr).toExponential(1)} > ${Number(result.tolerance).toExponential()}`;
  }
  if (result.status === "SKIPPED") return `  ${name}: SKIPPED: ${result.reason}`;
  return `  ${name}: ERROR: ${String(result.error).split("\n")[0].slice(0, 160)}`;
}

/** A target's verdict for a table's foot line, e.g. "  (target ≥45% PASS)". */
function targetNote(targets, kind, shape) {
  const target = targets.find((t) => t.kind === kind && t.shape === shape);
  return target ? `  (target ≥${percent(target.atLeast)} ${target.verdict})` : "";
}

function shapeSection(shape, entry, summary) {
  const title = `${shape}  ${entry.sizes.join("-")}  (${grouped(entry.flops)} flop per gradient)`;
  const header = ["contender", "µs/grad", "ops/s", "± rme", "GFLOP/s", "% peak", "× floor*", "setup ms", "speed-up", "target", "load"];
  const rows = [];
  const notes = [];
  const floors = [];
  for (const [name, result] of Object.entries(entry.contenders)) {
    if (result.status !== "ok") {
      notes.push(failureNote(name, result));
      rows.push([name, result.status, "", "", "", "", "", "", "", targetCell(summary.targets, shape, name), fixed(result.loadAverage, 1)]);
      continue;
    }
    if (result.floor) {
      const f = result.floor;
      const target = targetCell(summary.targets, shape, name, "floor-ratio");
      floors.push(
        `  ${name}: ${times(f.ratio)} the floor of ${micros(f.us)} µs (${grouped(f.bytes)} B of weights read twice, ${fixed(f.gbps, 1)} GB/s)` +
          `${target ? ` (target ${target})` : ""}; per round: ${f.perRound.map((r) => `${micros(r.us)} µs ${times(r.ratio)}`).join(", ")}` +
          (f.ceiling ? `; matvec ceiling (bench/ceiling.mjs) ${micros(f.ceiling.us)} µs = ${times(f.ceiling.ratio)} the floor` : ""),
      );
    }
    rows.push([
      name,
      micros(result.medianUs),
      grouped(result.opsPerSec),
      `±${fixed(result.rme, 1)}%`,
      fixed(result.gflops, 2),
      percent(result.peakShare),
      result.floor ? times(result.floor.ratio) : "",
      fixed(result.setupMs, 1),
      name === BASELINE ? "1 (base)" : times(result.speedup),
      targetCell(summary.targets, shape, name),
      fixed(result.loadAverage, 1),
    ]);
  }
  const lines = [title, table(header, rows, ["l", "r", "r", "r", "r", "r", "r", "r", "r", "l", "r"]), ...notes];
  if (floors.length) lines.push(`bandwidth floor* (SIMD read-only sweep, timed interleaved with the gradient in its process; µs of the floor):\n${floors.join("\n")}`);
  lines.push(`f64/f32 speed share: ${percent(entry.f64Share)}${targetNote(summary.targets, "f64-share", shape)}`);
  return lines.join("\n");
}

function batchSection(shape, entry, summary) {
  const m = summary.batch.batch;
  const title = `${shape}  ${entry.sizes.join("-")}  batch of ${m}  (${grouped(entry.flopsPerSample)} flop per sample)`;
  const header = ["contender", "µs/sample", "samples/s", "± rme", "GFLOP/s", "% peak*", "setup ms", "speed-up", "target", "variant"];
  const rows = [];
  const notes = [];
  for (const [name, result] of Object.entries(entry.contenders)) {
    if (result.status !== "ok") {
      notes.push(failureNote(name, result));
      rows.push([name, result.status, "", "", "", "", "", "", targetCell(summary.targets, shape, name, "batch-speedup"), ""]);
      continue;
    }
    const alternatives = Object.entries(result.variantsPerSampleUs ?? {})
      .filter(([v]) => v !== result.variant)
      .map(([v, us]) => `${v} ${micros(us)} µs`);
    const how = result.variant === "gradientBatch" ? "" : `${result.variant}${alternatives.length ? ` (${alternatives.join(", ")})` : ""}`;
    rows.push([
      name,
      micros(result.perSampleUs),
      grouped(result.samplesPerSec),
      `±${fixed(result.rme, 1)}%`,
      fixed(result.gflops, 2),
      percent(result.peakShare),
      fixed(result.setupMs, 1),
      name === BASELINE ? "1 (base)" : times(result.speedup),
      targetCell(summary.targets, shape, name, "batch-speedup"),
      how,
    ]);
  }
  const skip = summary.meta.plan?.batch?.skip;
  if (skip?.shapes.includes(shape)) notes.push(`  not timed with --quick (seconds a call): ${skip.contenders.join(", ")}; the full run times them`);
  const lines = [title, table(header, rows, ["l", "r", "r", "r", "r", "r", "r", "r", "l", "l"]), ...notes];
  const base = entry.contenders[BASELINE];
  const peakHow = Number.isFinite(base?.sameProcessPeak)
    ? ` (of ${fixed(base.sameProcessPeak, 1)} GFLOP/s timed interleaved in its process; ${percent(base.roundPeakShare)} of the round's peak)`
    : "";
  lines.push(
    `mlpgrad-f32 share of the f32x4 peak: ${percent(base?.peakShare)}${peakHow}${targetNote(summary.targets, "batch-peak", shape)}` +
      (base?.gemmCeiling ? `; gemm ceiling (bench/gemm-ceiling.mjs, hand-written, no σ) ${percent(base.gemmCeiling.peakShare)}` : "") + "\n" +
      `f64/f32 throughput share: ${percent(entry.f64Share)}${targetNote(summary.targets, "batch-f64-share", shape)}`,
  );
  return lines.join("\n");
}

function jacobianSection(jacobian, summary) {
  const header = ["shape", "contender", "Jacobian µs", "± rme", "gradient µs (n_L=1)", "Jacobian ÷ gradient", "target", "× mlpgrad-f32"];
  const rows = [];
  const notes = [];
  for (const [shape, entry] of Object.entries(jacobian.shapes)) {
    const label = `${shape} ${entry.sizes.join("-")}`;
    for (const [name, result] of Object.entries(entry.contenders)) {
      const target = targetCell(summary.targets, shape, name, "jacobian-cost");
      if (result.status !== "ok") {
        notes.push(failureNote(`${shape} ${name}`, result));
        rows.push([label, name, result.status, "", "", "", target, ""]);
        continue;
      }
      rows.push([
        label,
        name,
        micros(result.medianUs),
        `±${fixed(result.rme, 1)}%`,
        `${micros(result.gradientUs)} (${entry.paired})`,
        times(result.ratio),
        target,
        name === BASELINE ? "1 (base)" : times(result.speedup),
      ]);
    }
  }
  const title =
    "Jacobian ∂a^[L]/∂x (n_L = 10) against one gradient of the same-width n_L = 1 network, timed interleaved in one process\n" +
    "(tfjs and jax-js: one tf.grad / jit(grad) of the outputs of x tiled n_L times, masked by the identity)";
  return [title, table(header, rows, ["l", "l", "r", "r", "r", "r", "l", "r"]), ...notes].join("\n");
}

/** One input split across the pool's threads (bench/split.mjs) against one thread, per shape and precision. */
function splitSection(split, summary) {
  if (!split) return "";
  const header = ["shape", "precision", "1 thread µs", "pool µs", "speed-up", "target", "per call", "p90 µs 1 / pool", "floor ×", "threads", "idle CPU", "load avg"];
  const rows = [];
  for (const [shape, byPrecision] of Object.entries(split.shapes)) {
    for (const [precision, row] of Object.entries(byPrecision)) {
      const target = summary.targets.find((t) => t.kind === "split-speedup" && t.shape === shape && t.precision === precision);
      rows.push([
        shape,
        precision,
        micros(row.oneUs),
        micros(row.twoUs),
        times(row.ratio),
        target ? `${target.verdict} ≥ ${target.atLeast}×` : "",
        Number.isFinite(row.callRatio) ? times(row.callRatio) : "–",
        Number.isFinite(row.callOneP90Us) ? `${row.callOneP90Us.toFixed(0)} / ${row.callTwoP90Us.toFixed(0)}` : "–",
        Number.isFinite(row.floorSpeedup) ? times(row.floorSpeedup) : "–",
        String(row.threads),
        `${(100 * row.idle).toFixed(0)}%`,
        `${fixed(row.loadBefore, 1)}→${fixed(row.loadAfter, 1)}`,
      ]);
    }
  }
  const title =
    `━━ One input on the pool's threads ━━\npool.gradient(x) (each layer's rows split across ${split.threads} threads, src/split.ts) against pool.network.gradient(x), ` +
    `one process, medians of ${split.rounds} interleaved blocks after a warm-up of both${split.status === "ok" ? "" : ` — ${split.status}: ${split.error ?? ""}`}\n` +
    "(per call: the ratio of the medians of every call timed on its own, and their 90th percentiles — the tail a busy core adds;\n" +
    " idle CPU: the machine's idle share during the row, from /proc/stat; a second thread gains only on a free core;\n" +
    ` floor ×: one thread reading the weight bytes twice ÷ ${split.threads} threads each reading its part twice at once, bench/floor2.mjs, the same process)`;
  return [title, table(header, rows, ["l", "l", "r", "r", "r", "l", "r", "r", "r", "r", "r", "r"])].join("\n");
}

function poolSection(pool, summary) {
  const header = ["shape", "1 thread µs/sample", "pool µs/sample", "speed-up", "target", "threads", "fallbackReason", "load avg"];
  const rows = [];
  const notes = [];
  for (const [shape, entry] of Object.entries(pool.shapes)) {
    const target = targetCell(summary.targets, shape, undefined, "pool-speedup");
    if (entry.status !== "ok") {
      notes.push(failureNote(shape, entry));
      rows.push([shape, entry.status, "", "", target, "", "", ""]);
      continue;
    }
    rows.push([
      shape,
      micros(entry.singlePerSampleUs),
      micros(entry.perSampleUs),
      times(entry.speedup),
      target,
      `${entry.threads} of ${entry.requestedThreads}`,
      entry.fallbackReason ?? "none",
      fixed(entry.loadAverage, 1),
    ]);
  }
  const title =
    `Pool: createMLPPool({ threads: ${pool.threads} }) against net.gradientBatch on one thread, batch of ${pool.batch}, f32, ` +
    "timed interleaved in one process\n(load avg: the machine's 1-minute load as the child started; a second thread gains only on a free core)";
  return [title, table(header, rows, ["l", "r", "r", "r", "l", "r", "l", "r"]), ...notes].join("\n");
}

function coldSection(cold) {
  if (!cold) return "";
  const header = ["cold start (fresh process)", "library import ms", "set-up ms", "1st grad ms", "library total ms", "× mlpgrad-f32",
    "import + bench module ms", "total ms", "× mlpgrad-f32", "runs"];
  const rows = Object.entries(cold.medians).map(([name, total]) => {
    const p = cold.phases[name];
    const base = name === BASELINE ? "1 (base)" : undefined;
    return [name, fixed(p.libraryImportMs, 1), fixed(p.setupMs, 1), fixed(p.firstCallMs, 2), fixed(cold.libraryMedians?.[name], 1),
      base ?? times(cold.libraryRatios?.[name]), fixed(p.importMs, 1), fixed(total, 1), base ?? times(cold.ratios[name]), p.runs];
  });
  const failures = Object.entries(cold.failures).map(([name, run]) => `  ${name}: ${run.status} ${run.error ?? ""}`);
  const note = "(from the import to the first S3 gradient of a network given as plain number[] weights, as JSON.parse gives them; " +
    "library: the library's own import, as a user's script would, which the target is judged on; total: with the bench's contender module too; " +
    "mlpgrad-floor: the cold-start floor, bench/cold-floor.mjs — one module with the same SIMD bytes, compile, instantiate, check and copy " +
    "every value with createMLP's guarantees, one gradient through the same kernels, and nothing else; " +
    "mlpgrad-lean: mlpgrad's cold path alone, bench/cold-lean.mjs — the bundle with every function and statement a cold start " +
    "does not execute taken out, by V8's coverage of one cold start)";
  return [table(header, rows, ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r"]), ...failures, note].join("\n");
}

function createSection(create) {
  if (!create) return "";
  if (create.status !== "ok") return `createMLP throughput: ${create.status} ${create.error ?? ""}`;
  const labels = { array: "number[]", nested: "number[][]", f32: "Float32Array" };
  const header = [`createMLP, ${create.shape} (${grouped(create.numbers)} numbers), fresh processes`, "ms", "M numbers/s", "runs"];
  const rows = Object.entries(create.forms).map(([form, f]) => [`weights as ${labels[form] ?? form}`, fixed(f.createMs, 1), fixed(f.mNumbersPerSec, 1), create.runs]);
  return `${table(header, rows, ["l", "r", "r", "r"])}\n(every value checked — a number, finite, within range — and copied into WebAssembly memory; load average ${fixed(create.loadAverage, 1)})`;
}

function allocSection(alloc) {
  if (!alloc?.length) return "";
  const header = ["allocation check", "calls", "JS heap Δ after gc", "GCs during calls", "WASM bytes before → after"];
  const rows = alloc.map((run) =>
    run.status === "ok"
      ? [`${run.contender} ${run.shape}`, grouped(run.calls), `${grouped(run.heapUsedDelta)} B`, run.gcDuringCalls,
        run.wasmBytesBefore === undefined ? "n/a" : `${grouped(run.wasmBytesBefore)} → ${grouped(run.wasmBytesAfter)}`]
      : [`${run.contender} ${run.shape}`, "", `ERROR: ${run.error}`, "", ""],
  );
  return table(header, rows, ["l", "r", "r", "r", "r"]);
}

/** The full text report. */
export function formatReport(summary) {
  const { meta, peak } = summary;
  const out = [];
  out.push(
    `mlpgrad benchmark — ${meta.date} — Node ${meta.node} — ${meta.cpu} ×${meta.cpus} — commit ${meta.commit ?? "?"}` +
      `${meta.sourcesChanged ? " with uncommitted changes in src/ or assembly/" : ""}\n` +
      `run time ${fixed(meta.durationS, 0)} s: ${Object.entries(meta.modeSeconds ?? {}).map(([part, sec]) => `${part} ${fixed(sec, 0)} s`).join(", ")}\n` +
      `µs: median of benchmark.js samples (single input) or of timing.mjs samples (the other modes, ≥ ${meta.minSamples} a child), ` +
      `minTime ${meta.minTime} s, maxTime ${meta.maxTime} s (others ${meta.sampledMaxTime ?? meta.maxTime} s, budget ${meta.budget} s), ` +
      `then median over ${meta.rounds} round(s); ± is the 95% rme\n` +
      `speed-up = contender µs ÷ ${BASELINE} µs (same run); GFLOP/s counts 4·Σ n_l·n_(l-1) flop per gradient\n` +
      "× floor* (single input): the gradient's µs ÷ a v128.load sweep over the same weight bytes (mlpgrad's padded layout), twice, " +
      "both timed interleaved in one process (bench/floor.mjs); load: the 1-minute load average as each child started (median over rounds)\n" +
      `shared machine (${meta.cpus} CPUs${Number.isFinite(meta.loadAverage) ? `, load average ${meta.loadAverage.toFixed(1)} at the start, ${fixed(meta.loadAverageEnd, 1)} at the end` : ""}): ` +
      "absolute times drift by up to 2× between runs; ratios from one run are what count",
  );
  if (peak.runs === 0) {
    out.push("SIMD peak: not measured (--no-peak)");
  } else {
    out.push(
      `SIMD peak (hand-written f32x4/f64x2 mul+add, 12 chains): f32x4 ${fixed(peak.f32x4, 1)} GFLOP/s, ` +
        `f64x2 ${fixed(peak.f64x2, 1)} GFLOP/s` + (peak.error ? `  ERROR: ${peak.error}` : ""),
    );
  }
  const single = Object.entries(summary.shapes);
  if (single.length) {
    out.push("━━ Single input: ∇ₓ a^[L](x), µs per gradient ━━");
    for (const [shape, entry] of single) out.push(shapeSection(shape, entry, summary));
  }
  const batch = Object.entries(summary.batch?.shapes ?? {});
  if (batch.length) {
    out.push(
      `━━ Batch: per-sample gradients of ${summary.batch.batch} inputs, µs per sample (time per call ÷ ${summary.batch.batch}; ` +
        "timed by bench/timing.mjs, median of samples) ━━\n" +
        "% peak*: mlpgrad rows against the peak loop timed interleaved in the same process, others against the round's peak",
    );
    for (const [shape, entry] of batch) out.push(batchSection(shape, entry, summary));
  }
  if (Object.keys(summary.jacobian?.shapes ?? {}).length) out.push(`━━ Jacobian ━━\n${jacobianSection(summary.jacobian, summary)}`);
  if (Object.keys(summary.pool?.shapes ?? {}).length) out.push(`━━ Pool ━━\n${poolSection(summary.pool, summary)}`);
  const split = splitSection(summary.split, summary);
  if (split) out.push(split);
  const cold = coldSection(summary.cold);
  if (cold) out.push(cold);
  const create = createSection(summary.create);
  if (create) out.push(create);
  const alloc = allocSection(summary.alloc);
  if (alloc) out.push(alloc);
  // Targets of the modes that ran, by mode; a mode not selected has no line of n/a's.
  const counts = { PASS: 0, MISS: 0, "n/a": 0 };
  const lines = [];
  for (const mode of meta.modes ?? ["single"]) {
    const mine = summary.targets.filter((t) => t.mode === mode);
    if (mine.length) lines.push(`${mode}:`);
    for (const t of mine) {
      counts[t.verdict]++;
      const value = ["f64-share", "batch-f64-share", "batch-peak"].includes(t.kind) ? percent(t.value) : times(t.value);
      lines.push(`  ${t.verdict.padEnd(4)}  ${t.description}  (measured ${value})`);
      if (t.limit) lines.push(`          limit: ${t.limit}`);
    }
  }
  out.push(`Targets: ${counts.PASS} PASS, ${counts.MISS} MISS, ${counts["n/a"]} n/a\n${lines.join("\n")}`);
  return out.join("\n\n") + "\n";
}
