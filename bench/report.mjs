/**
 * The human-readable report: one table per shape, then SIMD peak, cold start, allocation and the
 * target checklist. Pure string building from the summary (summary.mjs); run.mjs prints it.
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

function targetCell(targets, shape, name) {
  return targets
    .filter((t) => t.kind === "speedup" && t.shape === shape && t.versus === name)
    .map((t) => `≥${t.atLeast}× ${t.verdict}`)
    .join(", ");
}

function shapeSection(shape, entry, summary) {
  const title = `${shape}  ${entry.sizes.join("-")}  (${grouped(entry.flops)} flop per gradient)`;
  const header = ["contender", "µs/grad", "ops/s", "± rme", "GFLOP/s", "% peak", "setup ms", "speed-up", "target"];
  const rows = [];
  const notes = [];
  for (const [name, result] of Object.entries(entry.contenders)) {
    if (result.status !== "ok") {
      notes.push(
        result.status === "FAILED"
          ? `  ${name}: FAILED, not timed: gradient rel. error ${Number(result.relErr).toExponential(1)} > ${Number(result.tolerance).toExponential()}`
          : `  ${name}: ERROR: ${String(result.error).split("\n")[0].slice(0, 160)}`,
      );
      rows.push([name, result.status, "", "", "", "", "", "", targetCell(summary.targets, shape, name)]);
      continue;
    }
    rows.push([
      name,
      micros(result.medianUs),
      grouped(result.opsPerSec),
      `±${fixed(result.rme, 1)}%`,
      fixed(result.gflops, 2),
      percent(result.peakShare),
      fixed(result.setupMs, 1),
      name === BASELINE ? "1 (base)" : times(result.speedup),
      targetCell(summary.targets, shape, name),
    ]);
  }
  const lines = [title, table(header, rows, ["l", "r", "r", "r", "r", "r", "r", "r", "l"]), ...notes];
  const share = summary.targets.find((t) => t.kind === "f64-share" && t.shape === shape);
  const f64Note = share ? `  (target ≥${percent(share.atLeast)} ${share.verdict})` : "";
  lines.push(`f64/f32 speed share: ${percent(entry.f64Share)}${f64Note}`);
  return lines.join("\n");
}

function coldSection(cold) {
  if (!cold) return "";
  const header = ["cold start (fresh process)", "import ms", "set-up ms", "1st grad ms", "total ms", "runs", "× mlpgrad-f32"];
  const rows = Object.entries(cold.medians).map(([name, total]) => {
    const p = cold.phases[name];
    return [name, fixed(p.importMs, 1), fixed(p.setupMs, 1), fixed(p.firstCallMs, 2), fixed(total, 1), p.runs,
      name === BASELINE ? "1 (base)" : times(cold.ratios[name])];
  });
  const failures = Object.entries(cold.failures).map(([name, run]) => `  ${name}: ${run.status} ${run.error ?? ""}`);
  return [table(header, rows, ["l", "r", "r", "r", "r", "r", "r"]), ...failures].join("\n");
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
    `mlpgrad benchmark — ${meta.date} — Node ${meta.node} — ${meta.cpu} ×${meta.cpus}\n` +
      `µs/grad: median of benchmark.js samples (minTime ${meta.minTime} s, maxTime ${meta.maxTime} s), ` +
      `then median over ${meta.rounds} round(s); ± is benchmark.js rme\n` +
      `speed-up = contender µs ÷ ${BASELINE} µs (same run); GFLOP/s counts 4·Σ n_l·n_(l-1) flop per gradient`,
  );
  if (peak.runs === 0) {
    out.push("SIMD peak: not measured (--no-peak)");
  } else {
    out.push(
      `SIMD peak (hand-written f32x4/f64x2 mul+add, 12 chains): f32x4 ${fixed(peak.f32x4, 1)} GFLOP/s, ` +
        `f64x2 ${fixed(peak.f64x2, 1)} GFLOP/s` + (peak.error ? `  ERROR: ${peak.error}` : ""),
    );
  }
  for (const [shape, entry] of Object.entries(summary.shapes)) out.push(shapeSection(shape, entry, summary));
  const cold = coldSection(summary.cold);
  if (cold) out.push(cold);
  const alloc = allocSection(summary.alloc);
  if (alloc) out.push(alloc);
  const counts = { PASS: 0, MISS: 0, "n/a": 0 };
  const lines = summary.targets.map((t) => {
    counts[t.verdict]++;
    const value = t.kind === "f64-share" ? percent(t.value) : times(t.value);
    return `${t.verdict.padEnd(4)}  ${t.description}  (measured ${value})`;
  });
  out.push(`Targets: ${counts.PASS} PASS, ${counts.MISS} MISS, ${counts["n/a"]} n/a\n${lines.join("\n")}`);
  return out.join("\n\n") + "\n";
}
