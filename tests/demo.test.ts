// The browser demo (examples/browser/) in real headless Chromium, no driver: the page is served as
// `npm run demo` serves it (scripts/demo-server.mjs) and, given ?report=PATH, posts back raw facts: pixels
// read from its canvases and the arrows it drew. This suite recomputes them with the independent f64
// reference (tests/reference.ts) from the weights on disk, checks that the page printed nothing to the
// console and asked for no missing file, and writes a screenshot to $TMPDIR/mlpgrad-demo.png. Without
// Chromium ($CHROMIUM, or chromium on the PATH) it says so and runs nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { closeTo } from "./helpers.js";
import * as ref from "./reference.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];
const SIZE = 480;
const CELLS = 160;
const ARROWS = 15;

interface Sample {
  cells: number;
  precision: string;
  heat: { px: number; py: number; rgba: number[] }[];
  arrows: { x: number[]; gradient: number[]; from: number[]; to: number[] }[];
  arrowPixels: number[][];
  readouts: { perGradient: string; perFrame: string; build: string };
}
interface Report {
  simd: boolean;
  f64: Sample;
  f32: Sample;
  training: { steps: number; before: number; after: number };
}
interface Model {
  sizes: number[];
  layers: { weights: number[]; bias: number[] }[];
}

function findChromium(): string | undefined {
  if (process.env.CHROMIUM) return existsSync(process.env.CHROMIUM) ? process.env.CHROMIUM : undefined;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, "chromium");
    if (dir !== "" && existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** Runs Chromium on url until `until` resolves (or it exits, or 60 s pass); resolves to its stderr. */
async function chromium(browser: string, args: string[], until?: Promise<unknown>): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), "mlpgrad-demo-chromium-"));
  const child = spawn(browser, [...FLAGS, `--user-data-dir=${profile}`, "--enable-logging=stderr", "--v=0", ...args], { detached: true, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve("timeout"), 60_000)));
  const outcome = await Promise.race([until ?? exited, exited.then(() => "exited"), timeout]);
  clearTimeout(timer);
  if (child.exitCode === null) {
    try {
      process.kill(-child.pid!, "SIGTERM"); // its own process group: the helpers go too
    } catch {
      // already gone
    }
    await exited;
  }
  rmSync(profile, { recursive: true, force: true });
  if (outcome === "timeout") throw new Error(`Chromium did not finish within 60 s; its output:\n${stderr.slice(-3000)}`);
  return stderr;
}

/** The reference network of a model file (weights rounded to f32 for the page's f32 mode). */
function reference(model: Model, round: (v: number) => number): ref.RefNetwork {
  const sizes = model.sizes;
  return {
    sizes,
    activations: sizes.slice(1).map(() => "sigmoid"),
    W: model.layers.map((layer, l) => Array.from({ length: sizes[l + 1] }, (_, r) => layer.weights.slice(r * sizes[l], (r + 1) * sizes[l]).map(round))),
    b: model.layers.map((layer) => layer.bias.map(round)),
  };
}

const browser = findChromium();
if (browser === undefined) {
  console.log("demo tests skipped: no Chromium (set $CHROMIUM, or apt-get install chromium)");
} else {
  const { serve, DEMO_PATH } = (await import(pathToFileURL(join(root, "scripts/demo-server.mjs")).href)) as {
    serve(options: { onPost?: (path: string, body: string) => void }): Promise<{ server: import("node:http").Server; origin: string }>;
    DEMO_PATH: string;
  };
  const { heatColor } = (await import(pathToFileURL(join(root, "examples/browser/colormap.js")).href)) as { heatColor(d: number): number[] };
  const trained = JSON.parse(readFileSync(join(root, "examples/browser/trained.json"), "utf8")) as Model;

  let report: Report | undefined;
  let received: (value: unknown) => void;
  const arrived = new Promise((resolve) => (received = resolve));
  const { server, origin } = await serve({
    onPost: (path, body) => {
      if (path === "/__demo-test/report") {
        report = JSON.parse(body) as Report;
        received(report);
      }
    },
  });
  // Every request the page makes, to find any that 404.
  const missing: string[] = [];
  server.on("request", (request, response) => response.on("finish", () => response.statusCode === 404 && missing.push(request.url ?? "")));
  const stderr = await chromium(browser, [`${origin}${DEMO_PATH}?report=/__demo-test/report`], arrived);

  test("the demo loads without console output or missing files, and reports its frame", () => {
    const console = stderr.split("\n").filter((line) => /:CONSOLE[:(]/.test(line));
    assert.equal(console, [], "the page printed to the console");
    assert.equal(missing, [], "requests that 404ed");
    assert.ok(report !== undefined, `no report from the page; Chromium said:\n${stderr.slice(-2000)}`);
    assert.match(report!.f64.readouts.build, /^(SIMD|scalar) WebAssembly, f64$/);
    assert.match(report!.f64.readouts.perGradient, /^\d+\.\d\d µs/);
    assert.ok(Number.parseFloat(report!.f64.readouts.perGradient) > 0, report!.f64.readouts.perGradient);
    assert.match(report!.f64.readouts.perFrame, /^\d+\.\d\d ms/);
  });

  for (const precision of ["f64", "f32"] as const) {
    const round = precision === "f32" ? Math.fround : (v: number) => v;
    const net = reference(trained, round);

    test(`${precision}: heat-map pixels are the colour of a_1 − a_2 at their cell's centre`, () => {
      const sample = report![precision];
      assert.is(sample.precision, precision);
      assert.is(sample.cells, CELLS);
      let blue = 0;
      let orange = 0;
      for (const { px, py, rgba } of sample.heat) {
        const i = Math.floor((px * CELLS) / SIZE);
        const j = Math.floor((py * CELLS) / SIZE);
        const x = [round((i + 0.5) / CELLS), round(1 - (j + 0.5) / CELLS)];
        const [a1, a2] = ref.forward(net, x);
        const expected = heatColor(a1 - a2);
        const off = Math.max(...expected.map((c, k) => Math.abs(c - rgba[k])));
        assert.ok(off <= 1 && rgba[3] === 255, `pixel (${px}, ${py}), x = (${x}): drawn rgba(${rgba}), expected rgb(${expected}) for a_1 − a_2 = ${a1 - a2}`);
        // Independently of colormap.js: class 1 (a_1 > a_2) is drawn blue, class 2 orange.
        if (a1 - a2 > 0.5) {
          assert.ok(rgba[2] > rgba[0] + 60, `pixel (${px}, ${py}): a_1 − a_2 = ${a1 - a2} but drawn rgba(${rgba}) is not blue`);
          blue++;
        }
        if (a1 - a2 < -0.5) {
          assert.ok(rgba[0] > rgba[2] + 60, `pixel (${px}, ${py}): a_1 − a_2 = ${a1 - a2} but drawn rgba(${rgba}) is not orange`);
          orange++;
        }
      }
      assert.ok(blue >= 3 && orange >= 3, `the sampled pixels cover both classes (${blue} blue, ${orange} orange)`);
    });

    test(`${precision}: arrows are ∇ₓ(a_1 − a_2) of the reference, at their grid points, to one scale`, () => {
      const sample = report![precision];
      assert.is(sample.arrows.length, ARROWS * ARROWS);
      let longest = 0;
      const scales: number[] = [];
      sample.arrows.forEach(({ x, gradient, from, to }, k) => {
        const a = k % ARROWS;
        const b = Math.floor(k / ARROWS);
        assert.equal(x, [(a + 0.5) / ARROWS, (b + 0.5) / ARROWS], `arrow ${k} position`);
        const J = ref.jacobian(net, x.map(round));
        closeTo(gradient, [J[0][0] - J[1][0], J[0][1] - J[1][1]], precision === "f64" ? 1e-12 : 2e-5, `arrow ${k} at (${x})`);
        closeTo(from, [x[0] * SIZE, (1 - x[1]) * SIZE], 1e-12, `arrow ${k} start pixel`);
        const [dx, dy] = [to[0] - from[0], to[1] - from[1]];
        const norm = Math.hypot(gradient[0], gradient[1]);
        longest = Math.max(longest, Math.hypot(dx, dy));
        if (norm > 1e-9) {
          // Screen y points down, x_2 up: the arrow is (g_1, −g_2)·scale.
          const cross = dx * -gradient[1] - dy * gradient[0];
          assert.ok(Math.abs(cross) <= 1e-9 * Math.hypot(dx, dy) * norm + 1e-12, `arrow ${k} points along (g_1, −g_2)`);
          assert.ok(dx * gradient[0] - dy * gradient[1] > 0, `arrow ${k} points along +∇, not −∇`);
          scales.push(Math.hypot(dx, dy) / norm);
        }
        if (Math.hypot(dx, dy) > 6) assert.ok(sample.arrowPixels[k][3] > 100, `arrow ${k}: the overlay has ink at the shaft's midpoint (rgba ${sample.arrowPixels[k]})`);
      });
      closeTo([longest], [(0.9 * SIZE) / ARROWS], 1e-9, "longest arrow: 0.9 of the grid spacing");
      const spread = Math.max(...scales) / Math.min(...scales) - 1;
      assert.ok(spread < 1e-9, `all arrows share one scale (spread ${spread})`);
    });
  }

  test("live training with sgdStep lowers the paper's cost", () => {
    const { steps, before, after } = report!.training;
    assert.is(steps, 100_000);
    assert.ok(after < 0.02 * before, `cost ${before} → ${after} after ${steps} steps`);
  });

  test("screenshot: $TMPDIR/mlpgrad-demo.png", async () => {
    const file = join(tmpdir(), "mlpgrad-demo.png");
    rmSync(file, { force: true });
    await chromium(browser, ["--window-size=1000,680", "--hide-scrollbars", "--timeout=3000", `--screenshot=${file}`, `${origin}${DEMO_PATH}`]);
    const png = readFileSync(file);
    assert.equal([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG");
    assert.ok(png.length > 20_000, `${png.length} bytes: more than a blank page`);
    console.log(`    screenshot: ${file} (${Math.round(png.length / 1024)} KB)`);
  });

  test.after(() => {
    server.closeAllConnections();
    server.close();
  });
}

test.run();
