/**
 * fromTfjs against the real @tensorflow/tfjs: models built and trained here, saved through
 * tf.io.withSaveHandler to real model.json + weight bytes, imported, and compared with model.predict
 * (forward) and tf.grad (gradient, Jacobian rows) in f32, and with the f64 reference on the same weights.
 * Hand-made model.json variants cover what tfjs 4.22 itself does not write: the Python converter's
 * model_config wrapper, Keras 3 shapes, quantized and float16 weights.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createMLP, MLPError, type MLPSpec } from "../src/index.js";
import { fromTfjs } from "../src/import/tfjs.node.js";
import { fromTfjs as fromTfjsDefault } from "../src/import/tfjs.js";
import { closeTo, rng } from "./helpers.js";
import { agree, checkAgainstReference, inputs, mutateJson, printAgreement, rejectsCode, testNeedingCore, toF16 } from "./import-helpers.js";
import { refJacobian, type Act } from "./import-reference.js";

await tf.setBackend("cpu");
const F32_TOL = 2e-6;

/**
 * tf.layers.dense with seeded initial weights (and train() does not shuffle), so every run checks the same
 * numbers: the f32 comparisons with tf are between two f32 computations, and unseeded models now and then
 * gave one whose outputs nearly cancel (a mish model once reached 1.04e-5 against F32_TOL).
 */
let denseSeed = 1;
function dense(config: Parameters<typeof tf.layers.dense>[0]): ReturnType<typeof tf.layers.dense> {
  return tf.layers.dense({ kernelInitializer: tf.initializers.glorotUniform({ seed: denseSeed++ }), ...config });
}

/** What model.save hands a save handler. */
async function artifactsOf(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  return artifacts!;
}

/** The model.json that tf.io's file and browser handlers write for these artifacts. */
function modelJsonOf(a: tf.io.ModelArtifacts, paths: string[]): Record<string, unknown> {
  return { format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy, modelTopology: a.modelTopology, weightsManifest: [{ paths, weights: a.weightSpecs }] };
}

function weightBytes(a: tf.io.ModelArtifacts): Uint8Array {
  const data = a.weightData!;
  return new Uint8Array(Array.isArray(data) ? data[0] : (data as ArrayBuffer));
}

/** Trains a few steps on random data so the weights are not the initialiser's. */
async function train(model: tf.LayersModel, nIn: number, nOut: number, seed: number): Promise<void> {
  const random = rng(seed);
  const xs = tf.tensor2d(Array.from({ length: 32 * nIn }, () => random() * 2 - 1), [32, nIn]);
  const ys = tf.tensor2d(Array.from({ length: 32 * nOut }, () => random()), [32, nOut]);
  model.compile({ optimizer: tf.train.adam(0.05), loss: "meanSquaredError" });
  await model.fit(xs, ys, { epochs: 3, batchSize: 8, verbose: 0, shuffle: false });
  tf.dispose([xs, ys]);
}

/** tf's outputs and Jacobian (one tf.grad per output) at x. */
function tfOracle(model: tf.LayersModel, x: number[]): { output: number[]; jacobian: number[] } {
  return tf.tidy(() => {
    const input = tf.tensor2d([x]);
    const output = Array.from((model.predict(input) as tf.Tensor).dataSync());
    const jacobian: number[] = [];
    for (let k = 0; k < output.length; k++) {
      const g = tf.grad((v: tf.Tensor) => (model.apply(v) as tf.Tensor).slice([0, k], [1, 1]).sum())(input);
      jacobian.push(...g.dataSync());
    }
    return { output, jacobian };
  });
}

/** mlpgrad (f32) agrees with tf: forward, Jacobian, and gradient when n_L = 1. */
function checkAgainstTf(spec: MLPSpec, model: tf.LayersModel, xs: number[][], what: string): void {
  const net = createMLP(spec);
  try {
    for (const x of xs) {
      const ref = tfOracle(model, x);
      agree("f32 forward vs model.predict", net.forward(x), ref.output, F32_TOL, `${what}: forward vs model.predict`);
      agree("f32 jacobian vs tf.grad", net.jacobian(x), ref.jacobian, 5 * F32_TOL, `${what}: jacobian vs tf.grad`);
      if (ref.output.length === 1) agree("f32 gradient vs tf.grad", net.gradient(x), ref.jacobian, 5 * F32_TOL, `${what}: gradient vs tf.grad`);
    }
  } finally {
    net.dispose();
  }
}

/** The imported model's f64 reference agrees with tf (checks the importer without the core). */
function checkReferenceAgainstTf(spec: { sizes: number[]; activations: Act[]; layers: { weights: number[]; bias: number[] }[] }, model: tf.LayersModel, xs: number[][], what: string): void {
  for (const x of xs) {
    const ref = tfOracle(model, x);
    const mine = refJacobian(spec, x);
    agree("f64 reference of the import, forward vs model.predict", mine.output, ref.output, F32_TOL, `${what}: reference forward vs model.predict`);
    agree("f64 reference of the import, jacobian vs tf.grad", mine.jacobian, ref.jacobian, 5 * F32_TOL, `${what}: reference jacobian vs tf.grad`);
  }
}

const test = suite("import: TF.js");
test.after(() => printAgreement("TF.js"));

test("Sequential Dense(relu) → Dense(tanh) → Dense(sigmoid), trained: artifacts, { modelJSON, weights }, 3 shards; f32 vs tf.predict/tf.grad, f64 vs reference", async () => {
  const model = tf.sequential();
  model.add(dense({ units: 7, activation: "relu", inputShape: [5] }));
  model.add(dense({ units: 17, activation: "tanh" }));
  model.add(dense({ units: 1, activation: "sigmoid" }));
  await train(model, 5, 1, 1);
  const artifacts = await artifactsOf(model);
  const fromArtifacts = await fromTfjs(artifacts);
  assert.equal(fromArtifacts.sizes, [5, 7, 17, 1]);
  assert.equal(fromArtifacts.activations, ["relu", "tanh", "sigmoid"]);
  assert.is(fromArtifacts.precision, "f32");
  // W = Kᵀ: row o of W is column o of the [5][7] kernel.
  const kernel = model.layers[0].getWeights()[0].arraySync() as number[][];
  assert.equal(fromArtifacts.layers[0].weights.slice(0, 5), kernel.map((row) => row[0]));
  const bytes = weightBytes(artifacts);
  const json = modelJsonOf(artifacts, ["a.bin", "b.bin", "c.bin"]);
  const shards = [bytes.slice(0, 13), bytes.slice(13, 101), bytes.slice(101)];
  assert.equal(await fromTfjs({ modelJSON: json, weights: shards }), fromArtifacts);
  assert.equal(await fromTfjs({ modelJSON: JSON.stringify(json), weights: bytes.slice().buffer }), fromArtifacts);
  assert.equal(await fromTfjsDefault({ modelJSON: new TextEncoder().encode(JSON.stringify(json)), weights: bytes }), fromArtifacts);
  const xs = inputs(5, 4, 2, 2);
  checkAgainstTf(fromArtifacts as MLPSpec, model, xs, "sequential");
  checkAgainstReference(await fromTfjs(artifacts, { precision: "f64" }), xs, 1e-12, "sequential f64");
});

test("model.json path and file: URL with shards beside it (node build); missing and short shards are E_SOURCE / E_FORMAT", async () => {
  const model = tf.sequential();
  model.add(dense({ units: 3, activation: "softplus", inputShape: [4] }));
  model.add(dense({ units: 2 }));
  const artifacts = await artifactsOf(model);
  const bytes = weightBytes(artifacts);
  const dir = mkdtempSync(join(tmpdir(), "mlpgrad-tfjs-"));
  try {
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "model.json"), JSON.stringify(modelJsonOf(artifacts, ["sub/w 1.bin", "w2.bin"])));
    writeFileSync(join(dir, "sub", "w 1.bin"), bytes.slice(0, 20));
    writeFileSync(join(dir, "w2.bin"), bytes.slice(20));
    const expected = await fromTfjs(artifacts);
    assert.equal(await fromTfjs(join(dir, "model.json")), expected);
    assert.equal(await fromTfjs(pathToFileURL(join(dir, "model.json"))), expected);
    checkAgainstTf(expected as MLPSpec, model, inputs(4, 2, 3), "from files");
    writeFileSync(join(dir, "w2.bin"), bytes.slice(20, bytes.length - 4));
    await rejectsCode(fromTfjs(join(dir, "model.json")), "E_FORMAT", /manifest describes 92 bytes but the shards hold 88/);
    rmSync(join(dir, "w2.bin"));
    await rejectsCode(fromTfjs(join(dir, "model.json")), "E_SOURCE", /weights shard "w2.bin"/);
    writeFileSync(join(dir, "evil.json"), JSON.stringify(modelJsonOf(artifacts, ["../etc/passwd"])));
    await rejectsCode(fromTfjs(join(dir, "evil.json")), "E_FORMAT", /shard path "..\/etc\/passwd"/);
    await rejectsCode(fromTfjsDefault(pathToFileURL(join(dir, "model.json"))), "E_SOURCE", /file URL/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("model.json by http URL (node and default builds): shards fetched beside it, URL-encoded; a 404 shard is E_SOURCE", async () => {
  const model = tf.sequential();
  model.add(dense({ units: 5, activation: "sigmoid", inputShape: [3] }));
  model.add(dense({ units: 1 }));
  const artifacts = await artifactsOf(model);
  const bytes = weightBytes(artifacts);
  const files = new Map<string, Uint8Array>([
    ["/m/model.json", new TextEncoder().encode(JSON.stringify(modelJsonOf(artifacts, ["shard 1.bin", "sub/2.bin"])))],
    ["/m/shard%201.bin", bytes.slice(0, 8)],
    ["/m/sub/2.bin", bytes.slice(8)],
    ["/bad/model.json", new TextEncoder().encode(JSON.stringify(modelJsonOf(artifacts, ["gone.bin"])))],
  ]);
  const requested: string[] = [];
  const server = createServer((req, res) => {
    requested.push(req.url!);
    const body = files.get(req.url!);
    if (body === undefined) res.writeHead(404).end();
    else res.end(Buffer.from(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const expected = await fromTfjs(artifacts);
    assert.equal(await fromTfjs(new URL(`${base}/m/model.json`)), expected);
    assert.equal(await fromTfjsDefault(`${base}/m/model.json`), expected);
    assert.ok(requested.includes("/m/shard%201.bin") && requested.includes("/m/sub/2.bin"), requested.join(" "));
    await rejectsCode(fromTfjsDefault(new URL(`${base}/bad/model.json`)), "E_SOURCE", /weights shard "gone.bin"/, /HTTP 404/);
  } finally {
    server.close();
  }
});

test("Functional chain: Input → Dense → Dropout → Activation(softplus) → Flatten → Dense(no bias) → ReLU; Reshape to a vector", async () => {
  const input = tf.input({ shape: [2, 3] });
  let h = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  h = dense({ units: 8 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dropout({ rate: 0.5 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: "softplus" }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.reshape({ targetShape: [8] }).apply(h) as tf.SymbolicTensor;
  h = dense({ units: 3, useBias: false }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const artifacts = await artifactsOf(model);
  const spec = await fromTfjs(artifacts);
  assert.equal(spec.sizes, [6, 8, 3]);
  assert.equal(spec.activations, ["softplus", "relu"]);
  assert.equal(spec.layers[1].bias, [0, 0, 0]);
  const net = createMLP(spec as MLPSpec);
  for (const x of inputs(6, 3, 4)) {
    const ref = tf.tidy(() => Array.from((model.predict(tf.tensor3d([[x.slice(0, 3), x.slice(3)]])) as tf.Tensor).dataSync()));
    closeTo(net.forward(x), ref, F32_TOL, "functional forward");
  }
  net.dispose();
});

// Every activation tfjs names, as Dense's activation string or as its own layer. The reference check runs now;
// the check through the core waits for the activations of branch h7 where the core lacks them.
const ACTIVATION_CASES: { what: string; layer: (units: number, first: boolean) => tf.layers.Layer[]; expect: Act }[] = [
  ...(["elu", "selu", "relu6", "softsign", "hardSigmoid", "gelu", "gelu_new", "mish", "swish", "sigmoid", "tanh", "relu", "softplus", "linear"] as const).map((name) => ({
    what: `Dense activation "${name}"`,
    layer: (units: number, first: boolean) => [dense({ units, activation: name as never, ...(first ? { inputShape: [5] } : {}) })],
    expect: ({ elu: { name: "elu", alpha: 1 }, hardSigmoid: { name: "hardSigmoid", slope: 0.2, offset: 0.5 }, gelu_new: "geluTanh", linear: "identity" } as Record<string, Act>)[name] ?? name,
  })),
  { what: "LeakyReLU layer (alpha 0.2)", layer: (u, f) => [dense({ units: u, ...(f ? { inputShape: [5] } : {}) }), tf.layers.leakyReLU({ alpha: 0.2 })], expect: { name: "leakyRelu", alpha: 0.2 } },
  { what: "LeakyReLU layer (default alpha 0.3)", layer: (u, f) => [dense({ units: u, ...(f ? { inputShape: [5] } : {}) }), tf.layers.leakyReLU()], expect: { name: "leakyRelu", alpha: 0.3 } },
  // tfjs 4.22's ELU layer refuses alpha ≠ 1 ("not supported by the ELU layer yet"); other alphas are covered through ONNX.
  { what: "ELU layer", layer: (u, f) => [dense({ units: u, ...(f ? { inputShape: [5] } : {}) }), tf.layers.elu()], expect: { name: "elu", alpha: 1 } },
  { what: "ReLU layer maxValue 6", layer: (u, f) => [dense({ units: u, ...(f ? { inputShape: [5] } : {}) }), tf.layers.reLU({ maxValue: 6 })], expect: "relu6" },
];

for (const c of ACTIVATION_CASES) {
  const make = async () => {
    const model = tf.sequential();
    for (const layer of c.layer(7, true)) model.add(layer);
    model.add(dense({ units: 3 }));
    await train(model, 5, 3, 9);
    return model;
  };
  test(`${c.what} → ${JSON.stringify(c.expect)}; the imported model's f64 reference agrees with tf.predict and tf.grad`, async () => {
    const model = await make();
    const spec = await fromTfjs(await artifactsOf(model), { precision: "f64" });
    assert.equal(spec.activations, [c.expect, "identity"]);
    checkReferenceAgainstTf(spec, model, inputs(5, 3, 5, 3), c.what);
  });
  testNeedingCore(test, `${c.what}: mlpgrad f32 agrees with tf.predict and tf.grad, f64 with the reference`, [c.expect], async () => {
    const model = await make();
    const artifacts = await artifactsOf(model);
    const xs = inputs(5, 3, 5, 3);
    checkAgainstTf((await fromTfjs(artifacts)) as MLPSpec, model, xs, c.what);
    checkAgainstReference(await fromTfjs(artifacts, { precision: "f64" }), xs, 1e-11, c.what);
  });
}

for (const [what, out] of [["softmax", "softmax"], ["Softmax layer", "softmax"]] as const) {
  const make = () => {
    const model = tf.sequential();
    model.add(dense({ units: 4, activation: "tanh", inputShape: [3] }));
    if (what === "softmax") model.add(dense({ units: 5, activation: "softmax" }));
    else {
      model.add(dense({ units: 5 }));
      model.add(tf.layers.softmax());
    }
    return model;
  };
  test(`${what} output: the reference of the import agrees with tf`, async () => {
    const model = make();
    const spec = await fromTfjs(await artifactsOf(model), { precision: "f64" });
    assert.equal(spec.activations, ["tanh", out]);
    checkReferenceAgainstTf(spec, model, inputs(3, 3, 6, 2), what);
  });
  testNeedingCore(test, `${what} output: mlpgrad agrees with tf`, [out], async () => {
    const model = make();
    checkAgainstTf((await fromTfjs(await artifactsOf(model))) as MLPSpec, model, inputs(3, 3, 6, 2), what);
  });
}

/** A real trained model's kernels and biases, to build hand-made model.json variants around. */
async function realWeights(): Promise<{ model: tf.LayersModel; kernels: number[][][]; biases: number[][] }> {
  const model = tf.sequential();
  model.add(dense({ units: 7, activation: "tanh", inputShape: [3] }));
  model.add(dense({ units: 2, activation: "sigmoid" }));
  await train(model, 3, 2, 4);
  const kernels = model.layers.map((l) => l.getWeights()[0].arraySync() as number[][]);
  const biases = model.layers.map((l) => l.getWeights()[1].arraySync() as number[]);
  return { model, kernels, biases };
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test("Python converter topology (model_config wrapper, Keras 2 names dense/kernel, biases listed first, two groups)", async () => {
  const { model, kernels, biases } = await realWeights();
  const layer = (name: string, units: number, activation: string, extra: object = {}) => ({ class_name: "Dense", config: { name, units, activation, use_bias: true, dtype: "float32", ...extra } });
  const json = {
    format: "layers-model",
    generatedBy: "keras v2.15.0",
    convertedBy: "TensorFlow.js Converter v4.22.0",
    modelTopology: {
      keras_version: "2.15.0",
      backend: "tensorflow",
      model_config: {
        class_name: "Sequential",
        config: { name: "sequential", layers: [{ class_name: "InputLayer", config: { batch_input_shape: [null, 3], dtype: "float32", name: "input_1" } }, layer("dense", 7, "tanh"), layer("dense_1", 2, "sigmoid")] },
      },
      training_config: { loss: "mse" },
    },
    weightsManifest: [
      { paths: ["group1-shard1of1.bin"], weights: [{ name: "dense/bias", shape: [7], dtype: "float32" }, { name: "dense/kernel", shape: [3, 7], dtype: "float32" }] },
      { paths: ["group2-shard1of1.bin"], weights: [{ name: "dense_1/kernel", shape: [7, 2], dtype: "float32" }, { name: "dense_1/bias", shape: [2], dtype: "float32" }] },
    ],
  };
  const weights = [concat([f32Bytes(biases[0]), f32Bytes(kernels[0].flat())]), concat([f32Bytes(kernels[1].flat()), f32Bytes(biases[1])])];
  const spec = await fromTfjs({ modelJSON: json, weights });
  assert.equal(spec.sizes, [3, 7, 2]);
  checkAgainstTf(spec as MLPSpec, model, inputs(3, 3, 8), "converter");
});

test("Keras 3 topology: Functional, batch_shape, DTypePolicy, new inbound_nodes, module/registered_name/build_config; hard_sigmoid is relu6(z+3)/6", async () => {
  const { model, kernels, biases } = await realWeights();
  const policy = { module: "keras", class_name: "DTypePolicy", config: { name: "float32" }, registered_name: null };
  const tensorRef = (name: string) => ({ class_name: "__keras_tensor__", config: { shape: [null, 7], dtype: "float32", keras_history: [name, 0, 0] } });
  const dense = (name: string, units: number, activation: string, from: string) => ({
    module: "keras.layers",
    class_name: "Dense",
    config: { name, trainable: true, dtype: policy, units, activation, use_bias: true },
    registered_name: null,
    build_config: { input_shape: [null, 3] },
    name,
    inbound_nodes: [{ args: [tensorRef(from)], kwargs: {} }],
  });
  const topology = {
    class_name: "Functional",
    config: {
      name: "functional",
      trainable: true,
      layers: [
        { module: "keras.layers", class_name: "InputLayer", config: { batch_shape: [null, 3], dtype: "float32", sparse: false, name: "input_layer" }, registered_name: null, name: "input_layer", inbound_nodes: [] },
        dense("dense", 7, "tanh", "input_layer"),
        dense("dense_1", 2, "sigmoid", "dense"),
      ],
      input_layers: [["input_layer", 0, 0]],
      output_layers: [["dense_1", 0, 0]],
    },
  };
  const json = {
    format: "layers-model",
    modelTopology: { keras_version: "3.6.0", backend: "tensorflow", model_config: topology },
    weightsManifest: [{ paths: ["w.bin"], weights: [
      { name: "dense/kernel", shape: [3, 7], dtype: "float32" }, { name: "dense/bias", shape: [7], dtype: "float32" },
      { name: "dense_1/kernel", shape: [7, 2], dtype: "float32" }, { name: "dense_1/bias", shape: [2], dtype: "float32" },
    ] }],
  };
  const weights = concat([f32Bytes(kernels[0].flat()), f32Bytes(biases[0]), f32Bytes(kernels[1].flat()), f32Bytes(biases[1])]);
  const spec = await fromTfjs({ modelJSON: json, weights });
  checkAgainstTf(spec as MLPSpec, model, inputs(3, 3, 8), "keras 3");
  // Keras 3 output_layers may be a single [name, 0, 0]; activations hard_sigmoid and leaky_relu take Keras 3 meanings.
  topology.config.output_layers = ["dense_1", 0, 0] as never;
  (topology.config.layers[1].config as { activation: string }).activation = "hard_sigmoid";
  (topology.config.layers[2].config as { activation: string }).activation = "leaky_relu";
  const k3 = await fromTfjs({ modelJSON: json, weights });
  assert.equal(k3.activations, [{ name: "hardSigmoid", slope: 1 / 6, offset: 0.5 }, { name: "leakyRelu", alpha: 0.2 }]);
});

test("float16 and uint8/uint16 quantized weights decode as tfjs does (q·scale + min in f32)", async () => {
  const { kernels, biases } = await realWeights();
  const specs = [
    { name: "d0/kernel", values: kernels[0].flat(), shape: [3, 7], q: "uint8" },
    { name: "d0/bias", values: biases[0], shape: [7], q: "float16" },
    { name: "d1/kernel", values: kernels[1].flat(), shape: [7, 2], q: "uint16" },
    { name: "d1/bias", values: biases[1], shape: [2], q: "float16" },
  ];
  const parts: Uint8Array[] = [];
  const expected = new Map<string, number[]>();
  const manifest = specs.map(({ name, values, shape, q }) => {
    if (q === "float16") {
      const bits = values.map((v) => toF16(v));
      parts.push(new Uint8Array(new Uint16Array(bits.map((b) => b[0])).buffer));
      expected.set(name, bits.map((b) => b[1]));
      return { name, shape, dtype: "float32", quantization: { dtype: "float16" } };
    }
    const levels = q === "uint8" ? 255 : 65535;
    const min = Math.min(...values);
    const scale = (Math.max(...values) - min) / levels;
    const qs = values.map((v) => Math.round((v - min) / scale));
    parts.push(q === "uint8" ? Uint8Array.from(qs) : new Uint8Array(new Uint16Array(qs).buffer));
    expected.set(name, qs.map((v) => Math.fround(v * scale + min)));
    return { name, shape, dtype: "float32", quantization: { dtype: q, scale, min } };
  });
  const topology = {
    class_name: "Sequential",
    config: { name: "s", layers: [
      { class_name: "Dense", config: { name: "d0", units: 7, activation: "tanh", batch_input_shape: [null, 3] } },
      { class_name: "Dense", config: { name: "d1", units: 2, activation: "sigmoid" } },
    ] },
  };
  const spec = await fromTfjs({ modelJSON: { modelTopology: topology, weightsManifest: [{ paths: ["x"], weights: manifest }] }, weights: concat(parts) }, { precision: "f64" });
  const W0 = expected.get("d0/kernel")!;
  assert.equal(spec.layers[0].weights, Array.from({ length: 21 }, (_, k) => W0[(k % 3) * 7 + Math.floor(k / 3)]));
  assert.equal(spec.layers[0].bias, expected.get("d0/bias"));
  assert.equal(spec.layers[1].bias, expected.get("d1/bias"));
  // And tfjs's own loader agrees on the dequantized values.
  const loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs: manifest as never, weightData: concat(parts).slice().buffer }));
  const tfKernel = (loaded.layers[0].getWeights()[0].arraySync() as number[][]).flat();
  assert.equal(tfKernel, W0);
  const tfBias = loaded.layers[1].getWeights()[1].arraySync() as number[];
  assert.equal(tfBias, expected.get("d1/bias"));
  checkAgainstReference(spec, inputs(3, 3, 1), 1e-12, "quantized f64");
});

test("unsupported models and bad files: typed MLPErrors that name the layer and the feature", async () => {
  const { model } = await realWeights();
  const artifacts = await artifactsOf(model);
  const topo = artifacts.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
  const variant = (edit: (t: typeof topo) => void) => {
    const t = JSON.parse(JSON.stringify(topo));
    edit(t);
    return fromTfjs({ ...artifacts, modelTopology: t });
  };
  await rejectsCode(variant((t) => t.config.layers.splice(1, 0, { class_name: "Conv2D", config: { name: "conv", filters: 2 } })), "E_UNSUPPORTED", /layer "conv" \(Conv2D\)/, /convolution/);
  await rejectsCode(variant((t) => (t.config.layers[0].config.activation = "exponential")), "E_UNSUPPORTED", /activation "exponential"/);
  await rejectsCode(variant((t) => t.config.layers.push({ class_name: "Activation", config: { name: "act2", activation: "tanh" } })), "E_UNSUPPORTED", /second activation/);
  await rejectsCode(
    variant((t) => {
      t.config.layers[0].config.activation = "linear";
      t.config.layers.splice(1, 0, { class_name: "Activation", config: { name: "sm", activation: "softmax" } });
    }),
    "E_UNSUPPORTED",
    /layer "sm" \(Activation\): softmax on a hidden layer/,
  );
  await rejectsCode(variant((t) => (t.config.layers[0].config.batch_input_shape = [null, 4])), "E_SHAPE", /expects 3 inputs but the layer before gives 4/);
  await rejectsCode(variant((t) => (t.config.layers[0].config.batch_input_shape = [null, 3, 2])), "E_UNSUPPORTED", /Dense acts on the last axis/);
  await rejectsCode(fromTfjs({ ...artifacts, weightData: artifacts.weightData!.slice(0, 40) as ArrayBuffer }), "E_FORMAT", /manifest describes 176 bytes but the shards hold 40/);
  await rejectsCode(fromTfjs({ ...artifacts, weightSpecs: artifacts.weightSpecs!.slice(0, 1), weightData: (artifacts.weightData as ArrayBuffer).slice(0, 84) }), "E_FORMAT", /no float32 weight named ".*\/bias"/);
  await rejectsCode(fromTfjs({ modelJSON: { format: "graph-model", modelTopology: { node: [] } }, weights: [] }), "E_UNSUPPORTED", /graph model/, /tensorflowjs_converter/);
  await rejectsCode(fromTfjs({ modelJSON: "{not json", weights: [] }), "E_FORMAT", /not valid JSON/);
  await rejectsCode(fromTfjs({ modelJSON: {}, weights: [] }), "E_FORMAT", /no modelTopology/);
  await rejectsCode(fromTfjs({ modelJSON: { modelTopology: topo, weightsManifest: [] }, weights: [new Uint8Array(4), "x" as never] }), "E_SOURCE", /weights\[1\]/);
  await rejectsCode(fromTfjs({ modelTopology: topo, weightSpecs: [{ name: "a", shape: [1], dtype: "string" }], weightData: new ArrayBuffer(4) }), "E_UNSUPPORTED", /"string"/);
  await rejectsCode(fromTfjs(12 as never), "E_SOURCE", /model.json path or URL/);
  // A branch: two Dense layers fed by the input, joined by Add.
  const input = tf.input({ shape: [3] });
  const a = dense({ units: 2, name: "left" }).apply(input) as tf.SymbolicTensor;
  const b = dense({ units: 2, name: "right" }).apply(input) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: "join" }).apply([a, b]) as tf.SymbolicTensor;
  await rejectsCode(fromTfjs(await artifactsOf(tf.model({ inputs: input, outputs: sum }))), "E_UNSUPPORTED", /layer "join" \(Add\): has 2 inputs/, /branching/);
});

test("mutated model.json (2000 cases) → a model or an MLPError, within 4 s; no prototype pollution", async () => {
  const { model } = await realWeights();
  const artifacts = await artifactsOf(model);
  const json = modelJsonOf(artifacts, ["w.bin"]);
  const bytes = weightBytes(artifacts);
  const random = rng(99);
  const codes = new Map<string, number>();
  const start = performance.now();
  for (let i = 0; i < 2000; i++) {
    const text = JSON.stringify(mutateJson(json, random));
    try {
      await fromTfjs({ modelJSON: text, weights: i % 5 === 0 ? bytes.slice(0, Math.floor(random() * bytes.length)) : bytes });
      codes.set("ok", (codes.get("ok") ?? 0) + 1);
    } catch (error) {
      if (!(error instanceof MLPError)) assert.unreachable(`case ${i}: ${String(error)}\n${text.slice(0, 400)}`);
      codes.set((error as MLPError).code, (codes.get((error as MLPError).code) ?? 0) + 1);
    }
  }
  const elapsed = performance.now() - start;
  assert.ok(elapsed < 4000, `2000 cases took ${elapsed.toFixed(0)} ms`);
  assert.ok((codes.get("ok") ?? 0) > 10 && (codes.get("E_FORMAT") ?? 0) > 100, `outcomes ${JSON.stringify([...codes])}`);
  assert.is(({} as Record<string, unknown>).polluted, undefined);
});

test.run();
