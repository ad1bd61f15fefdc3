/**
 * createMLP's validation and copy throughput, in fresh processes (createMLP runs once per network, so
 * its loops run unoptimised or barely optimised: a warm loop would flatter it). Each child imports the
 * library, initialises the engine, builds the network's spec in one of three forms before the clock
 * starts, then times createMLP(spec) — every weight and bias checked (a number, finite, in range) and
 * copied into WebAssembly memory — and reports million numbers per second.
 *   array    weights: number[] (flat, row-major [out][in]), bias: number[] — as a JSON model arrives
 *   nested   weights: number[][] (n_l rows of n_{l-1}), bias: number[]
 *   f32      weights and bias: Float32Array
 * `node bench/create.mjs [--shape S5] [--runs 5] [--forms array,nested,f32] [--libraries a.js,b.js]` runs
 * `runs` fresh children per form (and library: default dist/mlpgrad.node.js; several compare builds),
 * interleaved, and prints one JSON line with the medians; `--child <form>` is one child.
 */
import { execFileSync } from "node:child_process";
import os from "node:os";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { finish, parseOptions } from "./child-io.mjs";
import { makeNetwork } from "./shapes.mjs";
import { median } from "./stats.mjs";

export const FORMS = ["array", "nested", "f32"];

/** The spec of `net` with its parameters in one of FORMS, precision f32. */
export function specIn(net, form) {
  const layers = net.layers.map((layer, i) => {
    const rows = net.sizes[i + 1];
    const cols = net.sizes[i];
    switch (form) {
      case "array":
        return { weights: Array.from(layer.weights), bias: Array.from(layer.bias) };
      case "nested":
        return { weights: Array.from({ length: rows }, (_, r) => Array.from(layer.weights.subarray(r * cols, (r + 1) * cols))), bias: Array.from(layer.bias) };
      case "f32":
        return { weights: Float32Array.from(layer.weights), bias: Float32Array.from(layer.bias) };
      default:
        throw new Error(`unknown form "${form}": expected one of ${FORMS.join(", ")}`);
    }
  });
  return { sizes: net.sizes, activations: "sigmoid", precision: "f32", layers };
}

const DEFAULT_LIBRARY = fileURLToPath(new URL("../dist/mlpgrad.node.js", import.meta.url));

async function child(form, shape, path) {
  const t0 = performance.now();
  const library = await import(pathToFileURL(path).href);
  const t1 = performance.now();
  await library.init();
  const t2 = performance.now();
  const net = makeNetwork(shape);
  const spec = specIn(net, form);
  const numbers = net.layers.reduce((sum, layer) => sum + layer.weights.length + layer.bias.length, 0);
  const t3 = performance.now();
  const mlp = library.createMLP(spec);
  const createMs = performance.now() - t3;
  const x = Float32Array.from(net.x);
  const gradient = mlp.gradient(x);
  if (!gradient.every(Number.isFinite)) throw new Error("the gradient is not finite");
  return { status: "ok", form, shape, numbers, importMs: t1 - t0, initMs: t2 - t1, createMs, mNumbersPerSec: numbers / createMs / 1e3 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { options } = parseOptions(process.argv.slice(2));
  const shape = options.shape ?? "S5";
  try {
    if (options.child) {
      finish(await child(String(options.child), shape, resolve(options.library ?? DEFAULT_LIBRARY)));
    } else {
      const runs = Number(options.runs ?? 5);
      const forms = typeof options.forms === "string" ? options.forms.split(",") : FORMS;
      const libraries = typeof options.libraries === "string" ? options.libraries.split(",") : [DEFAULT_LIBRARY];
      const keys = libraries.flatMap((library) => forms.map((form) => ({ library, form, key: libraries.length > 1 ? `${library} ${form}` : form })));
      const samples = Object.fromEntries(keys.map(({ key }) => [key, []]));
      for (let k = 0; k < runs; k++) {
        for (const { library, form, key } of keys) {
          const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--child", form, "--shape", shape, "--library", library]);
          const result = JSON.parse(out.toString().trim().split("\n").at(-1));
          if (result.status !== "ok") throw new Error(`${key}: ${result.error}`);
          samples[key].push(result);
        }
      }
      const summary = { status: "ok", shape, runs, loadAverage: os.loadavg()[0], numbers: samples[keys[0].key][0].numbers, forms: {} };
      for (const { key } of keys) {
        summary.forms[key] = {
          createMs: median(samples[key].map((r) => r.createMs)),
          mNumbersPerSec: median(samples[key].map((r) => r.mNumbersPerSec)),
          importMs: median(samples[key].map((r) => r.importMs)),
          initMs: median(samples[key].map((r) => r.initMs)),
        };
      }
      finish(summary);
    }
  } catch (error) {
    finish({ status: "ERROR", error: String(error?.stack ?? error) });
  }
}
