/**
 * The browser demo: the paper's 2-2-3-2 sigmoid network (paper.js), live, in one page, computed by
 * mlpgrad from the built package (no bundler: an import map names dist/mlpgrad.js).
 *
 *   heat map   d(x) = a_1^[L](x) − a_2^[L](x) on a CELLS × CELLS grid over [0,1]²   forwardBatch
 *   arrows     ∇ₓ d(x) = vᵀJ(x) with v = (1, −1) at ARROWS × ARROWS points       vjp(x, [1, −1])
 *   training   one random point per step: squaredErrorGradient, then sgdStep (η = 0.05)
 *
 * Layout: cell (i, j), i = column from the left, j = row from the top, covers canvas pixels
 * [i·PX, (i+1)·PX) × [j·PX, (j+1)·PX) and is coloured by d at its centre x = ((i + ½)/CELLS, 1 − (j + ½)/CELLS)
 * (x_2 points up). Two stacked canvases: #heat holds only the heat map, #overlay the arrows and points.
 * What the last frame drew is kept on window.mlpgradDemo, so a test can check it against its own maths.
 */
import * as mlpgrad from "mlpgrad";
import { heatColor } from "./colormap.js";
import { LABELS, POINTS, SEED, cost, initialModel, mulberry32, train } from "./paper.js";

const SIZE = 480; // canvas pixels
const CELLS = 160; // heat map cells per side
const PX = SIZE / CELLS; // pixels per cell (3: nearest-neighbour scaling keeps each cell one colour)
const ARROWS = 15; // arrows per side
const FRAME_BUDGET_MS = 10; // training time per animation frame
const V = [1, -1]; // d = vᵀ a^[L]

const $ = (id) => document.getElementById(id);
const heat = $("heat").getContext("2d", { willReadFrequently: true });
const overlay = $("overlay").getContext("2d", { willReadFrequently: true });
const cells = document.createElement("canvas");
cells.width = cells.height = CELLS;
const cellContext = cells.getContext("2d");
const image = cellContext.createImageData(CELLS, CELLS);

// Inputs of the grids, built once: row-major (x_1, x_2) pairs.
const gridXs = new Float64Array(CELLS * CELLS * 2);
for (let j = 0; j < CELLS; j++) {
  for (let i = 0; i < CELLS; i++) {
    gridXs[2 * (j * CELLS + i)] = (i + 0.5) / CELLS;
    gridXs[2 * (j * CELLS + i) + 1] = 1 - (j + 0.5) / CELLS;
  }
}
const arrowXs = [];
for (let b = 0; b < ARROWS; b++) for (let a = 0; a < ARROWS; a++) arrowXs.push([(a + 0.5) / ARROWS, (b + 0.5) / ARROWS]);

const engine = await mlpgrad.init();
const trained = await (await fetch(new URL("./trained.json", import.meta.url))).json();
const state = {
  net: undefined,
  precision: "f64",
  random: mulberry32(SEED),
  training: false,
  steps: 0,
  stepsPerSecond: 0,
  frameMs: 0,
  // µs per gradient over every frame since the network changed: performance.now() is coarse (100 µs
  // where the page is not cross-origin isolated), so one frame's few hundred gradients are too short to time.
  arrowMs: 0,
  arrowCount: 0,
  dirty: true,
  drawn: undefined,
};
let outputs; // forwardBatch results, CELLS² × 2, in the network's precision
let gradient; // one vjp result
use(trained);

/** Replaces the network by `model` (in the current precision). */
function use(model) {
  state.net?.dispose();
  state.net = mlpgrad.createMLP({ ...model, precision: state.precision });
  const Type = state.precision === "f32" ? Float32Array : Float64Array;
  outputs = new Type(CELLS * CELLS * 2);
  gradient = new Type(2);
  state.arrowMs = state.arrowCount = 0;
  state.dirty = true;
}

/** Draws the heat map, the arrows and the points; returns what it drew. */
function render() {
  const net = state.net;
  const started = performance.now();
  net.forwardBatch(gridXs, outputs);
  const pixels = image.data;
  for (let c = 0; c < CELLS * CELLS; c++) {
    const [r, g, b] = heatColor(outputs[2 * c] - outputs[2 * c + 1]);
    pixels[4 * c] = r;
    pixels[4 * c + 1] = g;
    pixels[4 * c + 2] = b;
    pixels[4 * c + 3] = 255;
  }
  cellContext.putImageData(image, 0, 0);
  heat.imageSmoothingEnabled = false;
  heat.drawImage(cells, 0, 0, SIZE, SIZE);

  const arrowStarted = performance.now();
  const gradients = arrowXs.map((x) => Array.from(net.vjp(x, V, gradient)));
  const arrowMs = performance.now() - arrowStarted;
  overlay.clearRect(0, 0, SIZE, SIZE);
  const arrows = [];
  if ($("arrows").checked) {
    // The longest arrow is 0.9 of the grid spacing; the others in proportion to ‖∇ₓ d‖.
    const longest = Math.max(1e-12, ...gradients.map(([g1, g2]) => Math.hypot(g1, g2)));
    const scale = (0.9 * SIZE) / ARROWS / longest;
    overlay.strokeStyle = overlay.fillStyle = "rgba(20, 24, 32, 0.9)";
    overlay.lineWidth = 1.5;
    arrowXs.forEach((x, k) => {
      const [g1, g2] = gradients[k];
      const from = pixelOf(x);
      const to = [from[0] + g1 * scale, from[1] - g2 * scale];
      drawArrow(from, to);
      arrows.push({ x, gradient: [g1, g2], from, to });
    });
  }
  for (let p = 0; p < POINTS.length; p++) drawPoint(pixelOf(POINTS[p]), LABELS[p][0] === 1);
  const frameMs = performance.now() - started;
  state.frameMs = state.frameMs === 0 ? frameMs : 0.9 * state.frameMs + 0.1 * frameMs;
  state.arrowMs += arrowMs;
  state.arrowCount += arrowXs.length;
  state.dirty = false;
  state.drawn = { cells: CELLS, pixelsPerCell: PX, arrows, precision: net.precision, model: net.toJSON() };
  window.mlpgradDemo = { ...state.drawn, frame: (window.mlpgradDemo?.frame ?? 0) + 1 };
}

/** Canvas pixel of a point x of [0,1]² (x_2 up). */
function pixelOf(x) {
  return [x[0] * SIZE, (1 - x[1]) * SIZE];
}

function drawArrow([x0, y0], [x1, y1]) {
  const length = Math.hypot(x1 - x0, y1 - y0);
  if (length < 0.5) return;
  const head = Math.min(6, 0.4 * length);
  const angle = Math.atan2(y1 - y0, x1 - x0);
  overlay.beginPath();
  overlay.moveTo(x0, y0);
  overlay.lineTo(x1, y1);
  overlay.stroke();
  overlay.beginPath();
  overlay.moveTo(x1, y1);
  overlay.lineTo(x1 - head * Math.cos(angle - 0.45), y1 - head * Math.sin(angle - 0.45));
  overlay.lineTo(x1 - head * Math.cos(angle + 0.45), y1 - head * Math.sin(angle + 0.45));
  overlay.closePath();
  overlay.fill();
}

function drawPoint([x, y], classOne) {
  overlay.lineWidth = 2.5;
  if (classOne) {
    overlay.beginPath();
    overlay.arc(x, y, 6.5, 0, 2 * Math.PI);
    overlay.fillStyle = "white";
    overlay.fill();
    overlay.strokeStyle = "rgb(16, 56, 110)";
    overlay.stroke();
  } else {
    overlay.strokeStyle = "white";
    overlay.lineWidth = 5;
    cross(x, y);
    overlay.strokeStyle = "rgb(96, 38, 8)";
    overlay.lineWidth = 2.5;
    cross(x, y);
  }
}

function cross(x, y) {
  overlay.beginPath();
  overlay.moveTo(x - 6, y - 6);
  overlay.lineTo(x + 6, y + 6);
  overlay.moveTo(x + 6, y - 6);
  overlay.lineTo(x - 6, y + 6);
  overlay.stroke();
}

const format = (v) => (v < 0 ? "" : " ") + v.toFixed(5);

function showReadouts() {
  $("build").textContent = `${engine.simd ? "SIMD" : "scalar"} WebAssembly, ${state.net.precision}`;
  $("steps").textContent = `${state.steps.toLocaleString("en")} steps${state.training ? `, ${Math.round(state.stepsPerSecond).toLocaleString("en")} steps/s` : ""}`;
  $("cost").textContent = cost(mlpgrad, state.net).toExponential(3);
  $("per-gradient").textContent = `${((1000 * state.arrowMs) / Math.max(1, state.arrowCount)).toFixed(2)} µs (vjp(x, [1, −1]))`;
  $("per-frame").textContent = `${state.frameMs.toFixed(2)} ms (${CELLS * CELLS} outputs, ${arrowXs.length} gradients)`;
}

function hover(event) {
  const box = event.currentTarget.getBoundingClientRect();
  const x = [(event.clientX - box.left) / box.width, 1 - (event.clientY - box.top) / box.height];
  if (!(x[0] >= 0 && x[0] <= 1 && x[1] >= 0 && x[1] <= 1)) return;
  const a = state.net.forward(x);
  const g = state.net.vjp(x, V);
  $("hover-x").textContent = `(${x[0].toFixed(3)}, ${x[1].toFixed(3)})`;
  $("hover-a").textContent = `(${format(a[0])}, ${format(a[1])})  d = ${format(a[0] - a[1])}`;
  $("hover-g").textContent = `(${format(g[0])}, ${format(g[1])})`;
}

function frame() {
  if (state.training) {
    const started = performance.now();
    let done = 0;
    while (performance.now() - started < FRAME_BUDGET_MS) {
      train(mlpgrad, state.net, state.random, 100);
      done += 100;
    }
    const rate = (1000 * done) / (performance.now() - started);
    state.stepsPerSecond = state.stepsPerSecond === 0 ? rate : 0.9 * state.stepsPerSecond + 0.1 * rate;
    state.steps += done;
    state.dirty = true;
  }
  if (state.dirty) {
    render();
    showReadouts();
  }
  requestAnimationFrame(frame);
}

$("train").addEventListener("click", () => {
  state.training = !state.training;
  state.stepsPerSecond = 0;
  $("train").textContent = state.training ? "Pause" : "Train";
  $("train").classList.toggle("running", state.training);
  state.dirty = true;
});
$("random").addEventListener("click", () => {
  state.random = mulberry32(Math.floor(Math.random() * 2 ** 32));
  state.steps = 0;
  use(initialModel(state.precision, state.random));
});
$("trained").addEventListener("click", () => {
  state.steps = 0;
  use(trained);
});
for (const radio of document.querySelectorAll("input[name=precision]")) {
  radio.addEventListener("change", () => {
    state.precision = radio.value;
    use(state.net.toJSON());
  });
}
$("arrows").addEventListener("change", () => (state.dirty = true));
$("overlay").addEventListener("pointermove", hover);

// A few frames first, so the readouts show warm code rather than the first, compiling, frame.
for (let warm = 0; warm < 8; warm++) {
  render();
  if (warm === 0) state.frameMs = state.arrowMs = state.arrowCount = 0;
}
showReadouts();
requestAnimationFrame(frame);

// ?report=PATH: the browser test's hook. It checks what the page drew against its own maths, so the
// page reports raw facts only: pixels read back from the canvases, and the frame's records.
const report = new URLSearchParams(location.search).get("report");
if (report !== null) await sendReport(report);

async function sendReport(path) {
  const sample = () => {
    const random = mulberry32(7);
    const pixels = Array.from({ length: 24 }, () => [Math.floor(random() * SIZE), Math.floor(random() * SIZE)]);
    return {
      ...state.drawn,
      heat: pixels.map(([px, py]) => ({ px, py, rgba: Array.from(heat.getImageData(px, py, 1, 1).data) })),
      // The overlay at each arrow's midpoint (the shaft is drawn there) and at a point's centre.
      arrowPixels: state.drawn.arrows.map(({ from, to }) => Array.from(overlay.getImageData(Math.round((from[0] + to[0]) / 2 - 0.5), Math.round((from[1] + to[1]) / 2 - 0.5), 1, 1).data)),
      readouts: { perGradient: $("per-gradient").textContent, perFrame: $("per-frame").textContent, build: $("build").textContent },
    };
  };
  const f64 = sample();
  // The precision toggle, as a user clicks it.
  document.querySelector("input[name=precision][value=f32]").click();
  render();
  const f32 = sample();
  document.querySelector("input[name=precision][value=f64]").click();
  // Live training from the seeded start of make-weights.mjs, as the Train button does.
  state.random = mulberry32(SEED);
  use(initialModel("f64", state.random));
  const before = cost(mlpgrad, state.net);
  train(mlpgrad, state.net, state.random, 100_000);
  const after = cost(mlpgrad, state.net);
  await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ userAgent: navigator.userAgent, simd: engine.simd, f64, f32, training: { steps: 100_000, before, after } }),
  });
}
