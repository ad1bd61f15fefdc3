// The browser demo (examples/browser/) in real headless Chromium, no driver: the page is served as
// `npm run demo` serves it (scripts/demo-server.mjs) and, given ?report=PATH, posts back raw facts: pixels
// read from its canvases and the arrows it drew. This suite recomputes them with the independent f64
// reference (tests/reference.ts) from the weights on disk, checks that the page printed nothing to the
// console and asked for no missing file, and writes a screenshot to $TMPDIR/mlpgrad-demo.png. Chromium is
// driven over its DevTools pipe (class Browser). Without Chromium ($CHROMIUM, or chromium on the PATH)
// it says so and runs nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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

/**
 * Chromium driven over --remote-debugging-pipe (the DevTools protocol as NUL-separated JSON on file
 * descriptors 3 and 4): no driver package and no WebSocket, one page at a time. Collects every console
 * call, exception and log entry of the page.
 */
class Browser {
  readonly messages: string[] = [];
  private readonly child: ChildProcess;
  private readonly profile: string;
  private readonly pending = new Map<number, { resolve: (result: Record<string, unknown>) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private session = "";
  private stderr = "";

  constructor(binary: string) {
    this.profile = mkdtempSync(join(tmpdir(), "mlpgrad-demo-chromium-"));
    this.child = spawn(binary, [...FLAGS, `--user-data-dir=${this.profile}`, "--remote-debugging-pipe", "--hide-scrollbars", "about:blank"], {
      detached: true, // its own process group, so its helpers end with it
      stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
    });
    this.child.stderr!.on("data", (chunk) => (this.stderr = (this.stderr + chunk).slice(-4000)));
    let buffer = "";
    (this.child.stdio[4] as Readable).on("data", (chunk) => {
      buffer += chunk;
      for (let end = buffer.indexOf("\0"); end !== -1; end = buffer.indexOf("\0")) {
        this.receive(JSON.parse(buffer.slice(0, end)));
        buffer = buffer.slice(end + 1);
      }
    });
    this.child.on("exit", () => {
      for (const { reject } of this.pending.values()) reject(new Error(`Chromium exited; its output:\n${this.stderr}`));
    });
  }

  /** Opens a page of width × height CSS pixels and attaches to it. */
  async open(width: number, height: number): Promise<void> {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" });
    this.session = (await this.send("Target.attachToTarget", { targetId, flatten: true })).sessionId as string;
    await Promise.all(["Runtime.enable", "Log.enable", "Page.enable"].map((method) => this.send(method)));
    await this.send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile: false });
  }

  navigate(url: string): Promise<Record<string, unknown>> {
    return this.send("Page.navigate", { url });
  }

  /** Evaluates an expression in the page (awaiting a promise), by value. */
  async evaluate(expression: string): Promise<unknown> {
    const reply = await this.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    return (reply.result as { value?: unknown }).value;
  }

  /** Moves the mouse to (x, y) CSS pixels of the viewport. */
  async mouse(x: number, y: number): Promise<void> {
    await this.send("Input.dispatchMouseEvent", { type: "mouseMoved", x, y });
  }

  async screenshot(): Promise<Buffer> {
    return Buffer.from((await this.send("Page.captureScreenshot", { format: "png" })).data as string, "base64");
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      try {
        process.kill(-this.child.pid!, "SIGTERM");
      } catch {
        // already gone
      }
      await exited;
    }
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }

  private send(method: string, params: object = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const message = { id, method, params, ...(this.session !== "" && !method.startsWith("Target.") ? { sessionId: this.session } : {}) };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      (this.child.stdio[3] as Writable).write(JSON.stringify(message) + "\0");
    });
  }

  private receive(message: { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, any> }): void {
    if (message.id !== undefined) {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) waiting?.reject(new Error(message.error.message));
      else waiting?.resolve(message.result ?? {});
      return;
    }
    const p = message.params ?? {};
    if (message.method === "Runtime.consoleAPICalled") {
      this.messages.push(`console.${p.type}: ${(p.args as { value?: unknown; description?: string }[]).map((a) => a.value ?? a.description).join(" ")}`);
    } else if (message.method === "Runtime.exceptionThrown") {
      this.messages.push(`exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`);
    } else if (message.method === "Log.entryAdded") {
      this.messages.push(`log ${p.entry?.level}: ${p.entry?.text} ${p.entry?.url ?? ""}`);
    }
  }
}

/** Resolves when check() is truthy, polling every 50 ms; rejects after 60 s. */
async function until(what: string, check: () => Promise<unknown> | unknown): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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
  const { server, origin } = await serve({
    onPost: (path, body) => {
      if (path === "/__demo-test/report") {
        report = JSON.parse(body) as Report;
      }
    },
  });
  // Every request the page makes, to find any that 404.
  const missing: string[] = [];
  server.on("request", (request, response) => response.on("finish", () => response.statusCode === 404 && missing.push(request.url ?? "")));
  const chromium = new Browser(browser);
  let screenshot: Buffer | undefined;
  let hovered: string[] = [];
  let live: { during: string; steps: string; button: string; costBefore: number; costAfter: number; frames: number } | undefined;
  let failure: Error | undefined;
  try {
    await chromium.open(1000, 680);
    await chromium.navigate(`${origin}${DEMO_PATH}?report=/__demo-test/report`);
    await until("the page's report", () => report !== undefined);
    // The demo as a visitor sees it: once it has drawn a few frames, a screenshot.
    await chromium.navigate(`${origin}${DEMO_PATH}`);
    await until("the demo's frames", async () => ((await chromium.evaluate("window.mlpgradDemo?.frame ?? 0")) as number) >= 8);
    // Hover at x = (0.35, 0.4), near the decision boundary: the readouts show x, a^[L](x) and the gradient.
    const box = JSON.parse((await chromium.evaluate("JSON.stringify(document.getElementById('overlay').getBoundingClientRect())")) as string);
    await chromium.mouse(box.left + 0.35 * box.width, box.top + 0.6 * box.height);
    await until("the hover readout", async () => (await chromium.evaluate("document.getElementById('hover-x').textContent")) !== "move the pointer over the plot");
    hovered = (await chromium.evaluate("['hover-x', 'hover-a', 'hover-g'].map((id) => document.getElementById(id).textContent)")) as string[];
    screenshot = await chromium.screenshot();
    // The Train button: from a random start, the page trains and redraws every frame until paused.
    const text = (id: string) => chromium.evaluate(`document.getElementById(${JSON.stringify(id)}).textContent`) as Promise<string>;
    const frameBefore = (await chromium.evaluate("window.mlpgradDemo.frame")) as number;
    await chromium.evaluate("document.getElementById('random').click()");
    await until("a frame of the random start", async () => ((await chromium.evaluate("window.mlpgradDemo.frame")) as number) > frameBefore);
    const costBefore = Number(await text("cost"));
    await chromium.evaluate("document.getElementById('train').click()");
    let during = "";
    await until("20,000 live training steps", async () => Number((during = await text("steps")).replace(/,/g, "").split(" ")[0]) >= 20_000);
    // Clicked and the frame count read in one evaluation, so the frame awaited below comes after the pause.
    const framePaused = (await chromium.evaluate("document.getElementById('train').click(), window.mlpgradDemo.frame")) as number;
    // The readouts follow on the next animation frame, which a loaded machine may delay.
    await until("a frame after pausing", async () => ((await chromium.evaluate("window.mlpgradDemo.frame")) as number) > framePaused);
    live = {
      during,
      steps: await text("steps"),
      button: await text("train"),
      costBefore,
      costAfter: Number(await text("cost")),
      frames: ((await chromium.evaluate("window.mlpgradDemo.frame")) as number) - frameBefore,
    };
  } catch (error) {
    failure = error as Error;
  } finally {
    await chromium.close();
  }

  test("the demo loads without console output or missing files, and reports its frame", () => {
    if (failure !== undefined) throw failure;
    assert.equal(chromium.messages, [], "the page's console, exceptions and log");
    assert.equal(missing, [], "requests that 404ed");
    assert.ok(report !== undefined, "a report from the page");
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

  test("hovering shows x, a^[L](x) and ∇ₓ(a_1 − a_2) of the reference at the pointer", () => {
    const numbers = (text: string) => (text.match(/-?\d+\.\d+/g) ?? []).map(Number);
    const [x, a, g] = hovered.map(numbers);
    assert.equal(x, [0.35, 0.4], `hover x: ${hovered[0]}`);
    const net = reference(trained, (v) => v);
    const [a1, a2] = ref.forward(net, [0.35, 0.4]);
    const J = ref.jacobian(net, [0.35, 0.4]);
    closeTo(a, [a1, a2, a1 - a2], 2e-5, `hover a^[L]: ${hovered[1]}`);
    closeTo(g, [J[0][0] - J[1][0], J[0][1] - J[1][1]], 2e-5, `hover gradient: ${hovered[2]}`);
  });

  test("live training with sgdStep lowers the paper's cost", () => {
    const { steps, before, after } = report!.training;
    assert.is(steps, 100_000);
    assert.ok(after < 0.02 * before, `cost ${before} → ${after} after ${steps} steps`);
  });

  test("the Train button trains live (steps/s shown), redraws as it goes, and pauses", () => {
    assert.ok(live !== undefined, "the live run finished");
    assert.match(live!.during, /^[\d,]+ steps, [1-9][\d,]* steps\/s$/, "while training: steps and steps/s");
    assert.match(live!.steps, /^[\d,]+ steps$/, "paused: no steps/s");
    assert.is(live!.button, "Train");
    assert.ok(live!.frames >= 5, `${live!.frames} frames drawn while training`);
    // From a random start the cost may plateau for a while; that training lowers it is checked above, seeded.
    assert.ok(Number.isFinite(live!.costAfter) && live!.costAfter !== live!.costBefore, `the cost readout moved: ${live!.costBefore} → ${live!.costAfter}`);
  });

  test("screenshot: $TMPDIR/mlpgrad-demo.png", () => {
    const file = join(tmpdir(), "mlpgrad-demo.png");
    assert.ok(screenshot !== undefined, "a screenshot");
    writeFileSync(file, new Uint8Array(screenshot!));
    assert.equal([...screenshot!.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG");
    assert.ok(screenshot!.length > 40_000, `${screenshot!.length} bytes: more than a page without its plot`);
    console.log(`    screenshot: ${file} (${Math.round(screenshot!.length / 1024)} KB)`);
  });

  test.after(() => {
    server.closeAllConnections();
    server.close();
  });
}

test.run();
