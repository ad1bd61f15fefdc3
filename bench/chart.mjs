/**
 * The speed-up chart as a hand-written SVG: for each shape, one bar per contender showing how many
 * times faster mlpgrad-f32 is (contender µs ÷ mlpgrad-f32 µs), on a log scale, each bar growing up
 * (faster) or down (slower) from the 1× line. A dark tick marks a bar's target where it has one.
 * One chart per mode with such ratios: "single" (ratios.svg) and "batch" (ratios-batch.svg).
 */
import { BASELINE } from "./contenders/index.mjs";
import { times } from "./report.mjs";

const WIDTH = 960;
const HEIGHT = 520;
const MARGIN = { left: 64, right: 16, top: 56, bottom: 110 };
const COLORS = {
  "mlpgrad-f64": "#4e79a7",
  "mlpgrad-f32-scalar": "#a0cbe8",
  "tfjs-cpu": "#f28e2b",
  "tfjs-wasm": "#e15759",
  "jax-js": "#59a14f",
  "js-plain": "#b07aa1",
  "js-unrolled": "#9c755f",
};
const FALLBACK_COLOR = "#bab0ac";

const escapeXml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]);
const round = (value) => Math.round(value * 10) / 10;

/** What differs between the charts of the modes. */
const CHARTS = {
  single: {
    section: (summary) => summary.shapes,
    targetKind: "speedup",
    title: () => "How many times faster mlpgrad-f32 computes ∇ₓ than each contender (log scale)",
    what: () => "contender µs ÷ mlpgrad-f32 µs",
  },
  batch: {
    section: (summary) => summary.batch.shapes,
    targetKind: "batch-speedup",
    title: (summary) => `Batch of ${summary.batch.batch}: how many times faster mlpgrad-f32 computes per-sample ∇ₓ (log scale)`,
    what: () => "contender µs per sample ÷ mlpgrad-f32 µs per sample",
  },
};

/** Renders the chart of one mode ("single" or "batch") for a run summary as an SVG document string. */
export function renderRatioChart(summary, mode = "single") {
  const chart = CHARTS[mode];
  const section = chart.section(summary);
  const targets = summary.targets.filter((t) => t.kind === chart.targetKind);
  const shapes = Object.keys(section);
  const names = [...new Set(shapes.flatMap((s) => Object.keys(section[s].contenders)))].filter((n) => n !== BASELINE);
  const values = shapes.flatMap((s) => names.map((n) => section[s].contenders[n]?.speedup)).filter(Number.isFinite);
  const targetValues = targets.map((t) => t.atLeast);
  const lo = Math.min(0, Math.floor(Math.log10(Math.min(1, ...values))));
  const hi = Math.max(1, Math.ceil(Math.log10(Math.max(10, ...values, ...targetValues))));

  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const y = (ratio) => MARGIN.top + plotH * (1 - (Math.log10(ratio) - lo) / (hi - lo));
  const band = plotW / Math.max(1, shapes.length);
  const barW = (band * 0.84) / Math.max(1, names.length);
  const parts = [];

  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      `font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="16" font-weight="600">` +
      `${escapeXml(chart.title(summary))}</text>`,
    `<text x="${WIDTH / 2}" y="40" text-anchor="middle" fill="#555">` +
      escapeXml(`${chart.what()}, medians of ${summary.meta.rounds} round(s), Node ${summary.meta.node}, ${summary.meta.date}`) +
      `</text>`,
  );
  // Grid: every power of ten, labelled.
  for (let p = lo; p <= hi; p++) {
    const gy = round(y(10 ** p));
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${gy}" y2="${gy}" stroke="${p === 0 ? "#333" : "#ddd"}"/>`,
      `<text x="${MARGIN.left - 6}" y="${gy + 4}" text-anchor="end">${p < 0 ? (10 ** p).toFixed(-p) : 10 ** p}×</text>`,
    );
  }
  parts.push(
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">speed-up of mlpgrad-f32</text>`,
  );

  shapes.forEach((shape, s) => {
    const entry = section[shape];
    const x0 = MARGIN.left + s * band + band * 0.08;
    names.forEach((name, k) => {
      const result = entry.contenders[name];
      const x = round(x0 + k * barW);
      const cx = round(x + barW / 2);
      if (!result) return;
      if (result.status !== "ok") {
        parts.push(
          `<text transform="translate(${cx + 3} ${round(y(1)) - 4}) rotate(-90)" font-size="10" fill="#c00">${escapeXml(result.status)}</text>`,
        );
        return;
      }
      const ratio = result.speedup;
      const top = round(Math.min(y(ratio), y(1)));
      const height = Math.max(1, round(Math.abs(y(ratio) - y(1))));
      parts.push(
        `<rect x="${x}" y="${top}" width="${round(barW * 0.9)}" height="${height}" fill="${COLORS[name] ?? FALLBACK_COLOR}">` +
          `<title>${escapeXml(`${shape} ${name}: ${times(ratio)} (${(result.perSampleUs ?? result.medianUs).toFixed(2)} µs${result.perSampleUs !== undefined ? " per sample" : ""})`)}</title></rect>`,
      );
      const labelY = ratio >= 1 ? top - 4 : top + height + 4;
      const anchor = ratio >= 1 ? "start" : "end";
      parts.push(
        `<text transform="translate(${cx + 3} ${round(labelY)}) rotate(-90)" text-anchor="${anchor}" font-size="10">${escapeXml(times(ratio))}</text>`,
      );
      for (const target of targets) {
        if (target.shape !== shape || target.versus !== name) continue;
        const ty = round(y(target.atLeast));
        parts.push(
          `<line x1="${x - 1}" x2="${round(x + barW * 0.9 + 1)}" y1="${ty}" y2="${ty}" stroke="#111" stroke-width="2">` +
            `<title>${escapeXml(`target ≥${target.atLeast}×: ${target.verdict}`)}</title></line>`,
        );
      }
    });
    const labelX = round(MARGIN.left + s * band + band / 2);
    parts.push(
      `<text x="${labelX}" y="${MARGIN.top + plotH + 18}" text-anchor="middle" font-weight="600">${escapeXml(shape)}</text>`,
      `<text x="${labelX}" y="${MARGIN.top + plotH + 33}" text-anchor="middle" fill="#555">${escapeXml(entry.sizes.join("-"))}</text>`,
    );
  });

  // Legend in one row, each item as wide as its name (about 7 px a character at 12 px), then the
  // key for target ticks.
  const legendY = HEIGHT - 40;
  let lx = MARGIN.left;
  for (const name of names) {
    parts.push(
      `<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${COLORS[name] ?? FALLBACK_COLOR}"/>`,
      `<text x="${lx + 16}" y="${legendY}">${escapeXml(name)}</text>`,
    );
    lx += 16 + 7 * name.length + 18;
  }
  const tx = lx;
  parts.push(
    `<line x1="${tx}" x2="${tx + 14}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="#111" stroke-width="2"/>`,
    `<text x="${tx + 18}" y="${legendY}">target</text>`,
    `</svg>`,
  );
  return parts.join("\n") + "\n";
}
