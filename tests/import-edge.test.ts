/**
 * The default (browser/workerd) builds of the importers in real workerd: a Worker imports dist/onnx.js,
 * dist/safetensors.js and dist/tfjs.js (no `node:` anywhere in them) beside the workerd entry of mlpgrad,
 * imports model files embedded as data modules, builds the networks and answers with the specs, outputs and
 * gradients, which are checked here against the node builds and the f64 reference.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromOnnx } from "../src/import/onnx.node.js";
import { fromSafetensors } from "../src/import/safetensors.node.js";
import { fromTfjs } from "../src/import/tfjs.node.js";
import { closeTo } from "./helpers.js";
import { refJacobian } from "./import-reference.js";
import { FLOAT, onnxModel } from "./onnx-writer.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dist = (file: string) => join(root, "dist", file);

/** The workerd binary, or why it cannot run here. */
function workerdBinary(): { binary?: string; why?: string } {
  try {
    const binary = (createRequire(import.meta.url)("workerd") as { default: string }).default;
    const probe = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 30_000 });
    return probe.status === 0 ? { binary } : { why: `workerd --version failed: ${probe.error?.message ?? probe.stderr}` };
  } catch (error) {
    return { why: `the workerd package did not load: ${(error as Error).message.split("\n")[0]}` };
  }
}

const WORKER = `
import { init, createMLP } from "mlpgrad";
import { fromOnnx } from "mlpgrad-onnx";
import { fromSafetensors } from "mlpgrad-safetensors";
import { fromTfjs } from "mlpgrad-tfjs";
import onnxBytes from "model.onnx";
import stBytes from "model.safetensors";
import tfjsWeights from "weights.bin";
import tfjsModel from "model.json";

async function run() {
  await init();
  const specs = {
    onnx: await fromOnnx(onnxBytes),
    safetensors: await fromSafetensors(new Uint8Array(stBytes), { activations: ["tanh", "identity"], precision: "f64" }),
    tfjs: await fromTfjs({ modelJSON: tfjsModel, weights: tfjsWeights }),
  };
  const x = [0.25, -0.5, 0.75];
  const results = {};
  for (const [name, spec] of Object.entries(specs)) {
    const net = createMLP(spec);
    results[name] = { spec, forward: [...net.forward(x)], jacobian: [...net.jacobian(x)] };
    net.dispose();
  }
  let fileUrl;
  try { await fromOnnx(new URL("file:///model.onnx")); } catch (error) { fileUrl = { code: error.code, message: error.message }; }
  return { x, results, fileUrl };
}

export default {
  async fetch() {
    try {
      return Response.json(await run());
    } catch (error) {
      return Response.json({ error: String(error && error.stack || error) }, { status: 500 });
    }
  },
};
`;

const CONFIG = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "mlpgrad", esModule = embed "mlpgrad.workerd.js"),
    (name = "mlpgrad.simd.wasm", wasm = embed "mlpgrad.simd.wasm"),
    (name = "mlpgrad-onnx", esModule = embed "onnx.js"),
    (name = "mlpgrad-safetensors", esModule = embed "safetensors.js"),
    (name = "mlpgrad-tfjs", esModule = embed "tfjs.js"),
    (name = "model.onnx", data = embed "model.onnx"),
    (name = "model.safetensors", data = embed "model.safetensors"),
    (name = "weights.bin", data = embed "weights.bin"),
    (name = "model.json", json = embed "model.json"),
  ],
  compatibilityDate = "2026-11-17",
);
`;

/** Runs workerd on the folder's config, requests / once, and returns the JSON answer. */
async function serve(binary: string, dir: string): Promise<Record<string, unknown>> {
  const child = spawn(binary, ["serve", join(dir, "config.capnp"), "--control-fd=3"], { stdio: ["ignore", "pipe", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (c) => (log += c));
  child.stderr!.on("data", (c) => (log += c));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`workerd did not listen within 30 s\n${log}`)), 30_000);
      let control = "";
      (child.stdio[3] as NodeJS.ReadableStream).on("data", (chunk) => {
        const lines = (control + chunk).split("\n");
        control = lines.pop()!;
        for (const line of lines) {
          try {
            const m = JSON.parse(line);
            if (m.event === "listen" && m.socket === "http") {
              clearTimeout(timer);
              resolve(m.port);
            }
          } catch {
            // not JSON: ignore
          }
        }
      });
      child.once("exit", () => {
        clearTimeout(timer);
        reject(new Error(`workerd exited before listening\n${log}`));
      });
    });
    const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(30_000) });
    const body = (await response.json()) as Record<string, unknown>;
    if (body.error) throw new Error(`the Worker failed: ${body.error}`);
    return body;
  } finally {
    child.kill("SIGKILL");
  }
}

const { binary, why } = workerdBinary();
const name = "the default builds of mlpgrad/onnx, /safetensors and /tfjs import models in workerd; networks agree with the node builds and the reference";

(binary === undefined ? test.skip : test)(binary === undefined ? `[workerd unavailable: ${why}] ${name}` : name, async () => {
  for (const file of ["onnx.js", "safetensors.js", "tfjs.js"]) assert.not.match(readFileSync(dist(file), "utf8"), /["'`]node:/, `${file} holds a node: specifier`);
  const W1 = [0.5, -0.25, 1, 0.75, 0.125, -1, 0.25, 0.5, -0.5, 1, 0, 0.25];
  const b1 = [0.1, -0.2, 0.3, 0];
  const W2 = [1, -1, 0.5, 0.25, -0.5, 0.75, 0.125, 1];
  const b2 = [0.05, -0.05];
  const onnx = onnxModel({
    nodes: [
      { op: "Gemm", inputs: ["x", "w1", "b1"], outputs: ["z1"], attrs: { transB: { i: 1 } } },
      { op: "Tanh", inputs: ["z1"], outputs: ["a1"] },
      { op: "Gemm", inputs: ["a1", "w2", "b2"], outputs: ["y"], attrs: { transB: { i: 1 } } },
    ],
    initializers: [
      { name: "w1", dims: [4, 3], dataType: FLOAT, values: W1 },
      { name: "b1", dims: [4], dataType: FLOAT, values: b1 },
      { name: "w2", dims: [2, 4], dataType: FLOAT, values: W2 },
      { name: "b2", dims: [2], dataType: FLOAT, values: b2 },
    ],
    input: { name: "x", dims: ["N", 3], elemType: FLOAT },
    output: { name: "y", dims: ["N", 2], elemType: FLOAT },
  });
  const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
  const tensors = [["0.weight", [4, 3], W1], ["0.bias", [4], b1], ["2.weight", [2, 4], W2], ["2.bias", [2], b2]] as const;
  let at = 0;
  const header: Record<string, unknown> = {};
  for (const [n, shape, values] of tensors) {
    header[n] = { dtype: "F32", shape, data_offsets: [at, at + 4 * values.length] };
    at += 4 * values.length;
  }
  const head = new TextEncoder().encode(JSON.stringify(header));
  const st = new Uint8Array(8 + head.length + at);
  new DataView(st.buffer).setBigUint64(0, BigInt(head.length), true);
  st.set(head, 8);
  st.set(Uint8Array.from(tensors.flatMap(([, , v]) => [...f32([...v])])), 8 + head.length);
  const T = (W: number[], rows: number, cols: number) => Array.from({ length: rows * cols }, (_, k) => W[(k % rows) * cols + Math.floor(k / rows)]);
  const modelJson = {
    format: "layers-model",
    modelTopology: { class_name: "Sequential", config: { layers: [
      { class_name: "Dense", config: { name: "d1", units: 4, activation: "tanh", batch_input_shape: [null, 3] } },
      { class_name: "Dense", config: { name: "d2", units: 2, activation: "linear" } },
    ] } },
    weightsManifest: [{ paths: ["weights.bin"], weights: [
      { name: "d1/kernel", shape: [3, 4], dtype: "float32" }, { name: "d1/bias", shape: [4], dtype: "float32" },
      { name: "d2/kernel", shape: [4, 2], dtype: "float32" }, { name: "d2/bias", shape: [2], dtype: "float32" },
    ] }],
  };
  const weights = Uint8Array.from([...f32(T(W1, 4, 3)), ...f32(b1), ...f32(T(W2, 2, 4)), ...f32(b2)]);

  const dir = mkdtempSync(join(tmpdir(), "mlpgrad-edge-import-"));
  try {
    for (const file of ["mlpgrad.workerd.js", "mlpgrad.simd.wasm", "onnx.js", "safetensors.js", "tfjs.js"]) copyFileSync(dist(file), join(dir, file));
    writeFileSync(join(dir, "worker.js"), WORKER);
    writeFileSync(join(dir, "config.capnp"), CONFIG);
    writeFileSync(join(dir, "model.onnx"), onnx);
    writeFileSync(join(dir, "model.safetensors"), st);
    writeFileSync(join(dir, "weights.bin"), weights);
    writeFileSync(join(dir, "model.json"), JSON.stringify(modelJson));
    const answer = (await serve(binary!, dir)) as { x: number[]; results: Record<string, { spec: never; forward: number[]; jacobian: number[] }>; fileUrl: { code: string; message: string } };
    const expected = {
      onnx: await fromOnnx(onnx),
      safetensors: await fromSafetensors(st, { activations: ["tanh", "identity"], precision: "f64" }),
      tfjs: await fromTfjs({ modelJSON: modelJson, weights }),
    };
    for (const [n, spec] of Object.entries(expected)) {
      const got = answer.results[n];
      assert.equal(got.spec, spec, `${n}: the spec from workerd equals the node build's`);
      const ref = refJacobian(spec, answer.x);
      const tol = spec.precision === "f64" ? 1e-14 : 1e-6;
      closeTo(got.forward, ref.output, tol, `${n}: forward in workerd vs reference`);
      closeTo(got.jacobian, ref.jacobian, tol, `${n}: jacobian in workerd vs reference`);
    }
    assert.is(answer.fileUrl.code, "E_SOURCE");
    assert.match(answer.fileUrl.message, /no file access/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test.run();
