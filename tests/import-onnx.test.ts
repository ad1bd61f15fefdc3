/**
 * fromOnnx against real ONNX files: written here from onnx.proto's field numbers (tests/onnx-writer.ts) and
 * proved real by running them in onnxruntime-web (wasm, in Node). mlpgrad's forward is compared with
 * onnxruntime's output; gradients and Jacobians with central differences of onnxruntime's outputs (of an f64
 * twin of each model where onnxruntime has f64 kernels) and with the f64 reference.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as ort from "onnxruntime-web";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createMLP, type MLPSpec } from "../src/index.js";
import { fromOnnx } from "../src/import/onnx.node.js";
import { fromOnnx as fromOnnxDefault } from "../src/import/onnx.js";
import { closeTo, normal, rng } from "./helpers.js";
import { agree, checkAgainstReference, fuzzBytes, inputs, printAgreement, rejectsCode, testNeedingCore, toF16 } from "./import-helpers.js";
import { refJacobian, type Act } from "./import-reference.js";
import { DOUBLE, FLOAT, FLOAT16, INT64, onnxModel, type NodeSpec, type TensorSpec } from "./onnx-writer.js";

ort.env.wasm.numThreads = 1;

/** Runs the model on a batch of rows; returns one output row per input row. */
async function runOrt(bytes: Uint8Array, xs: number[][], double = false, inputShape?: number[]): Promise<number[][]> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const flat = xs.flat();
    const shape = [xs.length, ...(inputShape ?? [xs[0].length])];
    const tensor = double ? new ort.Tensor("float64", Float64Array.from(flat), shape) : new ort.Tensor("float32", Float32Array.from(flat), shape);
    const result = await session.run({ [session.inputNames[0]]: tensor });
    const out = result[session.outputNames[0]];
    const data = Array.from(out.data as Float32Array | Float64Array);
    const width = data.length / xs.length;
    return xs.map((_, r) => data.slice(r * width, (r + 1) * width));
  } finally {
    await session.release();
  }
}

/** Central differences of onnxruntime's outputs at x (one batched run), row-major n_out × n_in. */
async function ortJacobian(bytes: Uint8Array, x: number[], h: number, double: boolean): Promise<number[]> {
  const rows: number[][] = [];
  const steps = x.map((xi) => h * Math.max(1, Math.abs(xi)));
  x.forEach((_, i) => {
    const up = x.slice();
    const down = x.slice();
    up[i] += steps[i];
    down[i] -= steps[i];
    rows.push(up, down);
  });
  const out = await runOrt(bytes, rows, double);
  const nOut = out[0].length;
  const J: number[] = [];
  for (let k = 0; k < nOut; k++) for (let i = 0; i < x.length; i++) J.push((out[2 * i][k] - out[2 * i + 1][k]) / (2 * steps[i]));
  return J;
}

interface Dense {
  W: number[]; // [out][in]
  b: number[];
  nIn: number;
  nOut: number;
}

function denseLayers(sizes: number[], seed: number, round = Math.fround): Dense[] {
  const random = rng(seed);
  return sizes.slice(1).map((nOut, l) => {
    const nIn = sizes[l];
    const s = 1.5 / Math.sqrt(nIn);
    return { nIn, nOut, W: Array.from({ length: nOut * nIn }, () => round(normal(random) * s)), b: Array.from({ length: nOut }, () => round(normal(random) * 0.3)) };
  });
}

function transposed(d: Dense): number[] {
  return Array.from({ length: d.nIn * d.nOut }, (_, k) => d.W[(k % d.nOut) * d.nIn + Math.floor(k / d.nOut)]);
}

type Style = "gemmT" | "gemm" | "matmulAdd" | "transposeMatMul";

/** Activation as ONNX nodes from `x` to `y` (plus any initializers), and what the importer should make of it. */
interface OnnxAct {
  nodes: (x: string, y: string, p: string) => NodeSpec[];
  inits?: (p: string, dataType: number) => TensorSpec[];
  expect: Act;
  opset?: number;
}

const scalar = (name: string, v: number, dataType: number): TensorSpec => ({ name, dims: [], dataType, values: [v] });
const op = (name: string, attrs?: NodeSpec["attrs"]) => (x: string, y: string, p: string): NodeSpec[] => [{ op: name, inputs: [x], outputs: [y], name: `${p}_${name}`, attrs }];
const ACTS: Record<string, OnnxAct> = {
  identity: { nodes: (x, y, p) => [{ op: "Identity", inputs: [x], outputs: [y], name: `${p}_id` }], expect: "identity" },
  sigmoid: { nodes: op("Sigmoid"), expect: "sigmoid" },
  tanh: { nodes: op("Tanh"), expect: "tanh" },
  relu: { nodes: op("Relu"), expect: "relu" },
  softplus: { nodes: op("Softplus"), expect: "softplus" },
  softsign: { nodes: op("Softsign"), expect: "softsign" },
  leakyRelu: { nodes: op("LeakyRelu", { alpha: { f: 0.01 } }), expect: { name: "leakyRelu", alpha: Math.fround(0.01) } },
  elu: { nodes: op("Elu", { alpha: { f: 0.7 } }), expect: { name: "elu", alpha: Math.fround(0.7) } },
  selu: { nodes: op("Selu"), expect: "selu" },
  hardSigmoid: { nodes: op("HardSigmoid", { alpha: { f: 1 / 6 } }), expect: { name: "hardSigmoid", slope: Math.fround(1 / 6), offset: 0.5 } },
  gelu: { nodes: op("Gelu"), expect: "gelu", opset: 20 },
  geluTanh: { nodes: op("Gelu", { approximate: { s: "tanh" } }), expect: "geluTanh", opset: 20 },
  mish: { nodes: op("Mish"), expect: "mish", opset: 18 },
  mishDecomposed: {
    nodes: (x, y, p) => [
      { op: "Softplus", inputs: [x], outputs: [`${p}_sp`] },
      { op: "Tanh", inputs: [`${p}_sp`], outputs: [`${p}_t`] },
      { op: "Mul", inputs: [x, `${p}_t`], outputs: [y] },
    ],
    expect: "mish",
  },
  geluDecomposed: {
    // torch.onnx.export of nn.GELU() below opset 20: x · (1 + erf(x / √2)) · 0.5.
    nodes: (x, y, p) => [
      { op: "Div", inputs: [x, `${p}_sqrt2`], outputs: [`${p}_div`] },
      { op: "Erf", inputs: [`${p}_div`], outputs: [`${p}_erf`] },
      { op: "Add", inputs: [`${p}_erf`, `${p}_one`], outputs: [`${p}_add`] },
      { op: "Mul", inputs: [x, `${p}_add`], outputs: [`${p}_mul`] },
      { op: "Mul", inputs: [`${p}_mul`, `${p}_half`], outputs: [y] },
    ],
    inits: (p, t) => [scalar(`${p}_sqrt2`, t === DOUBLE ? Math.SQRT2 : Math.fround(Math.SQRT2), t), scalar(`${p}_one`, 1, t), scalar(`${p}_half`, 0.5, t)],
    expect: "gelu",
  },
  swish: { nodes: (x, y, p) => [{ op: "Mul", inputs: [`${p}_s`, x], outputs: [y] }, { op: "Sigmoid", inputs: [x], outputs: [`${p}_s`] }], expect: "swish" },
  relu6: {
    nodes: (x, y, p) => [{ op: "Clip", inputs: [x, `${p}_lo`, `${p}_hi`], outputs: [y] }],
    inits: (p, t) => [scalar(`${p}_lo`, 0, t), scalar(`${p}_hi`, 6, t)],
    expect: "relu6",
  },
  softmax: { nodes: op("Softmax", { axis: { i: -1 } }), expect: "softmax" },
  logSoftmax: { nodes: op("LogSoftmax", { axis: { i: 1 } }), expect: "logSoftmax" },
};

/** An MLP as ONNX in one of the layouts exporters produce; nodes optionally in reverse order. */
function mlpOnnx(
  layers: Dense[],
  acts: string[],
  opts: { style?: Style; dataType?: number; storage?: "raw" | "typed"; reverse?: boolean; alpha?: number; beta?: number; opset?: number; asInputs?: boolean } = {},
): Uint8Array {
  const style = opts.style ?? "gemmT";
  const dataType = opts.dataType ?? FLOAT;
  const nodes: NodeSpec[] = [];
  const inits: TensorSpec[] = [];
  let current = "input";
  let opset = opts.opset ?? 17;
  layers.forEach((d, l) => {
    const p = `l${l}`;
    const z = `${p}_z`;
    const t = (name: string, dims: number[], values: number[]): TensorSpec => ({ name, dims, dataType, values, storage: opts.storage });
    const alpha = opts.alpha ?? 1;
    const beta = opts.beta ?? 1;
    if (style === "gemmT" || style === "gemm") {
      inits.push(t(`${p}.bias`, beta === 1 ? [d.nOut] : [1, d.nOut], d.b.map((v) => v / beta)));
      inits.push(style === "gemmT" ? t(`${p}.weight`, [d.nOut, d.nIn], d.W.map((v) => v / alpha)) : t(`${p}.weight`, [d.nIn, d.nOut], transposed(d).map((v) => v / alpha)));
      const attrs: NodeSpec["attrs"] = { transB: { i: style === "gemmT" ? 1 : 0 } };
      if (alpha !== 1) attrs.alpha = { f: alpha };
      if (beta !== 1) attrs.beta = { f: beta };
      nodes.push({ op: "Gemm", inputs: [current, `${p}.weight`, `${p}.bias`], outputs: [z], name: `/${p}/Gemm`, attrs });
    } else {
      inits.push(t(`onnx::Add_${l}`, [d.nOut], d.b));
      if (style === "matmulAdd") inits.push(t(`onnx::MatMul_${l}`, [d.nIn, d.nOut], transposed(d)));
      else {
        inits.push(t(`${p}.weight`, [d.nOut, d.nIn], d.W));
        nodes.push({ op: "Transpose", inputs: [`${p}.weight`], outputs: [`onnx::MatMul_${l}`], attrs: { perm: { ints: [1, 0] } } });
      }
      nodes.push({ op: "MatMul", inputs: [current, `onnx::MatMul_${l}`], outputs: [`${p}_mm`] });
      nodes.push({ op: "Add", inputs: [l % 2 === 0 ? `${p}_mm` : `onnx::Add_${l}`, l % 2 === 0 ? `onnx::Add_${l}` : `${p}_mm`], outputs: [z] });
    }
    const act = ACTS[acts[l]];
    const y = l === layers.length - 1 ? "output" : `${p}_a`;
    nodes.push(...act.nodes(z, y, p));
    inits.push(...(act.inits?.(p, dataType) ?? []));
    opset = Math.max(opset, act.opset ?? 0);
    current = y;
  });
  if (opts.reverse) nodes.reverse();
  return onnxModel({
    nodes,
    initializers: opts.reverse ? inits.reverse() : inits,
    input: { name: "input", dims: ["batch", layers[0].nIn], elemType: dataType === FLOAT16 ? FLOAT : dataType },
    output: { name: "output", dims: ["batch", layers[layers.length - 1].nOut], elemType: dataType === FLOAT16 ? FLOAT : dataType },
    opset,
    initializersAsInputs: opts.asInputs,
    irVersion: opts.asInputs ? 3 : 8,
  });
}

/** The model the importer should produce from these layers. */
function expectedModel(layers: Dense[], acts: string[], precision: "f32" | "f64") {
  return { sizes: [layers[0].nIn, ...layers.map((d) => d.nOut)], activations: acts.map((a) => ACTS[a].expect), precision, layers: layers.map((d) => ({ weights: d.W, bias: d.b })) };
}

/**
 * The full check of one model: import f32 and f64; forward vs onnxruntime; Jacobian (and gradient for n_L = 1)
 * vs central differences of the f64 twin in onnxruntime; f64 vs the reference.
 */
async function checkModel(layers: Dense[], acts: string[], style: Style, seed: number, extra: Parameters<typeof mlpOnnx>[2] = {}): Promise<void> {
  const bytes = mlpOnnx(layers, acts, { style, ...extra });
  const twin = mlpOnnx(layers, acts, { style, ...extra, dataType: DOUBLE });
  const f32 = await fromOnnx(bytes);
  const f64 = await fromOnnx(bytes, { precision: "f64" });
  const tol = extra.alpha !== undefined || extra.beta !== undefined ? 1e-6 : 0;
  const expected = expectedModel(layers, acts, "f32");
  assert.equal(f32.sizes, expected.sizes);
  assert.equal(f32.activations, expected.activations);
  if (tol === 0) assert.equal(f32.layers, expected.layers);
  else f32.layers.forEach((layer, l) => closeTo(layer.weights, expected.layers[l].weights, tol, `layer ${l + 2} weights`));
  assert.equal((await fromOnnx(twin, { precision: "f64" })).layers, f64.layers);
  const xs = inputs(layers[0].nIn, 3, seed);
  const ortOut = await runOrt(bytes, xs);
  const net32 = createMLP(f32 as MLPSpec);
  const net64 = createMLP(f64 as MLPSpec);
  try {
    for (let r = 0; r < xs.length; r++) {
      agree("f32 forward vs onnxruntime f32", net32.forward(xs[r]), ortOut[r], 2e-6, `${style}: forward vs onnxruntime`);
      const fd = await ortJacobian(twin, xs[r], 1e-6, true);
      agree("f64 jacobian vs central differences of onnxruntime f64", net64.jacobian(xs[r]), fd, 1e-7, `${style}: f64 jacobian vs central differences of onnxruntime`);
      agree("f32 jacobian vs central differences of onnxruntime f64", net32.jacobian(xs[r]), fd, 2e-5, `${style}: f32 jacobian vs central differences of onnxruntime`);
      if (net32.outputSize === 1) agree("f32 gradient vs central differences of onnxruntime f64", net32.gradient(xs[r]), fd, 2e-5, `${style}: gradient vs central differences`);
    }
  } finally {
    net32.dispose();
    net64.dispose();
  }
  checkAgainstReference(f64, xs, 1e-12, `${style} f64`);
}

const test = suite("import: ONNX");
test.after(() => printAgreement("ONNX"));

test("Gemm transB = 1 (torch nn.Linear): 5 → 17 → 7 → 1, relu/tanh/sigmoid; vs onnxruntime and the reference", async () => {
  await checkModel(denseLayers([5, 17, 7, 1], 1), ["relu", "tanh", "sigmoid"], "gemmT", 2);
});

test("Gemm transB = 0 with alpha 0.5, beta 2 and a [1, n] bias: 4 → 8 → 3", async () => {
  await checkModel(denseLayers([4, 8, 3], 3), ["tanh", "identity"], "gemm", 4, { alpha: 0.5, beta: 2 });
});

test("MatMul + Add (constant-folded Wᵀ, generated names, Add operands both ways), nodes and initializers in reverse order: 3 → 67 → 5", async () => {
  await checkModel(denseLayers([3, 67, 5], 5), ["sigmoid", "identity"], "matmulAdd", 6, { reverse: true });
});

test("Transpose(W) + MatMul + Add, float_data storage, initializers also listed as inputs (IR 3): 7 → 4 → 1", async () => {
  await checkModel(denseLayers([7, 4, 1], 7), ["relu", "identity"], "transposeMatMul", 8, { storage: "typed", asInputs: true });
});

test("f64 models (DOUBLE initializers as raw_data and double_data): imported exactly; f64 forward equals onnxruntime's f64", async () => {
  for (const storage of ["raw", "typed"] as const) {
    const layers = denseLayers([5, 7, 3], 9, (v) => v);
    const bytes = mlpOnnx(layers, ["tanh", "identity"], { dataType: DOUBLE, storage });
    const model = await fromOnnx(bytes, { precision: "f64" });
    assert.equal(model.layers, expectedModel(layers, ["tanh", "identity"], "f64").layers);
    const net = createMLP(model as MLPSpec);
    const xs = inputs(5, 3, 10);
    const out = await runOrt(bytes, xs, true);
    xs.forEach((x, r) => agree("f64 forward vs onnxruntime f64", net.forward(x), out[r], 1e-14, `f64 ${storage} forward`));
    net.dispose();
  }
});

test("FLOAT16 initializers (raw_data and int32_data): the half values exactly, network vs reference", async () => {
  for (const storage of ["raw", "typed"] as const) {
    const layers = denseLayers([3, 5, 2], 11, (v) => toF16(v)[1]);
    const half: TensorSpec[] = layers.flatMap((d, l) => [
      { name: `w${l}`, dims: [d.nOut, d.nIn], dataType: FLOAT16, values: d.W.map((v) => toF16(v)[0]), storage },
      { name: `b${l}`, dims: [d.nOut], dataType: FLOAT16, values: d.b.map((v) => toF16(v)[0]), storage },
    ]);
    const bytes = onnxModel({
      nodes: [
        { op: "Gemm", inputs: ["x", "w0", "b0"], outputs: ["z0"], attrs: { transB: { i: 1 } } },
        { op: "Tanh", inputs: ["z0"], outputs: ["a0"] },
        { op: "Gemm", inputs: ["a0", "w1", "b1"], outputs: ["y"], attrs: { transB: { i: 1 } } },
      ],
      initializers: half,
      input: { name: "x", dims: ["N", 3], elemType: FLOAT16 },
      output: { name: "y", dims: ["N", 2], elemType: FLOAT16 },
    });
    const model = await fromOnnx(bytes, { precision: "f64" });
    assert.equal(model.layers, layers.map((d) => ({ weights: d.W, bias: d.b })));
    checkAgainstReference(model, inputs(3, 3, 12), 1e-12, `float16 ${storage}`);
  }
});

test("BFLOAT16 initializers (raw_data): the top 16 bits of the f32, exactly", async () => {
  const values = [1, -2.5, 0.15625, 3.140625, -0.0078125, 96];
  const bits = values.map((v) => new Uint32Array(new Float32Array([v]).buffer)[0] >>> 16);
  const raw = new Uint8Array(new Uint16Array(bits).buffer);
  const { BinaryWriter, WireType } = await import("@bufbuild/protobuf/wire");
  const tensor = (name: string, dims: number[], data: Uint8Array) =>
    new BinaryWriter().tag(1, WireType.Varint).int64(dims[0]).tag(1, WireType.Varint).int64(dims[1] ?? 1).tag(2, WireType.Varint).int32(16)
      .tag(8, WireType.LengthDelimited).string(name).tag(9, WireType.LengthDelimited).bytes(data).finish();
  const base = onnxModel({
    nodes: [{ op: "Gemm", inputs: ["x", "w", "b"], outputs: ["y"], attrs: { transB: { i: 1 } } }],
    initializers: [],
    input: { name: "x", dims: ["N", 3], elemType: FLOAT },
    output: { name: "y", dims: ["N", 2], elemType: FLOAT },
  });
  const graph = new BinaryWriter().tag(5, WireType.LengthDelimited).bytes(tensor("w", [2, 3], raw)).tag(5, WireType.LengthDelimited).bytes(tensor("b", [2, 1], raw.slice(0, 4))).finish();
  const bytes = new Uint8Array([...base, ...new BinaryWriter().tag(7, WireType.LengthDelimited).bytes(graph).finish()]);
  const model = await fromOnnx(bytes, { precision: "f64" });
  assert.equal(model.layers, [{ weights: values, bias: [1, -2.5] }]);
});

for (const [name, act] of Object.entries(ACTS)) {
  const last = name === "softmax" || name === "logSoftmax";
  const acts = last ? ["tanh", name] : [name, "identity"];
  const layers = denseLayers([5, 7, 3], 20 + name.length, Math.fround);
  test(`activation ${name} → ${JSON.stringify(act.expect)}: the f64 reference of the import agrees with onnxruntime`, async () => {
    const bytes = mlpOnnx(layers, acts, {});
    const model = await fromOnnx(bytes, { precision: "f64" });
    assert.equal(model.activations, acts.map((a) => ACTS[a].expect));
    const xs = inputs(5, 3, 30, 3);
    const out = await runOrt(bytes, xs);
    xs.forEach((x, r) => agree("f64 reference of the import, forward vs onnxruntime f32", refJacobian(model, x).output, out[r], 2e-6, `${name}: reference forward vs onnxruntime`));
  });
  testNeedingCore(test, `activation ${name}: mlpgrad f32 vs onnxruntime (forward; Jacobian vs its central differences), f64 vs the reference`, [act.expect], async () => {
    const bytes = mlpOnnx(layers, acts, {});
    const f32 = createMLP((await fromOnnx(bytes)) as MLPSpec);
    const xs = inputs(5, 3, 30, 3);
    const out = await runOrt(bytes, xs);
    for (let r = 0; r < xs.length; r++) {
      agree("f32 forward vs onnxruntime f32 (activation table)", f32.forward(xs[r]), out[r], 2e-6, `${name}: forward vs onnxruntime`);
      // f32 outputs: h = 1e-2 balances truncation (h²) and rounding (ε/h); kinks of relu6/hardSigmoid stay > h away here.
      agree("f32 jacobian vs central differences of onnxruntime f32 (h = 1e-2)", f32.jacobian(xs[r]), await ortJacobian(bytes, xs[r], 1e-2, false), 5e-3, `${name}: jacobian vs central differences of onnxruntime`);
    }
    f32.dispose();
    checkAgainstReference(await fromOnnx(bytes, { precision: "f64" }), xs, 1e-11, `${name} f64`);
  });
}

test("Flatten, Reshape (Constant shape [-1, 7]), Identity and Dropout pass the vector through; input [N, 2, 3]", async () => {
  const layers = denseLayers([6, 7, 2], 40);
  const bytes = onnxModel({
    nodes: [
      { op: "Flatten", inputs: ["x"], outputs: ["f"], attrs: { axis: { i: 1 } } },
      { op: "Gemm", inputs: ["f", "w0", "b0"], outputs: ["z0"], attrs: { transB: { i: 1 } } },
      { op: "Dropout", inputs: ["z0"], outputs: ["d0"] },
      { op: "Relu", inputs: ["d0"], outputs: ["a0"] },
      { op: "Constant", inputs: [], outputs: ["shape"], attrs: { value: { t: { name: "", dims: [2], dataType: INT64, values: [-1, 7] } } } },
      { op: "Reshape", inputs: ["a0", "shape"], outputs: ["r0"] },
      { op: "Identity", inputs: ["r0"], outputs: ["i0"] },
      { op: "Gemm", inputs: ["i0", "w1", "b1"], outputs: ["y"], attrs: { transB: { i: 1 } } },
    ],
    initializers: layers.flatMap((d, l) => [
      { name: `w${l}`, dims: [d.nOut, d.nIn], dataType: FLOAT, values: d.W },
      { name: `b${l}`, dims: [d.nOut], dataType: FLOAT, values: d.b },
    ]),
    input: { name: "x", dims: ["N", 2, 3], elemType: FLOAT },
    output: { name: "y", dims: ["N", 2], elemType: FLOAT },
  });
  const model = await fromOnnx(bytes);
  assert.equal(model.sizes, [6, 7, 2]);
  assert.equal(model.activations, ["relu", "identity"]);
  const xs = inputs(6, 3, 41);
  const out = await runOrt(bytes, xs, false, [2, 3]);
  const net = createMLP(model as MLPSpec);
  xs.forEach((x, r) => closeTo(net.forward(x), out[r], 2e-6, "pass-through forward"));
  net.dispose();
});

test("sources: path and file: URL (node build), bytes (default build); a non-file string path is read from disk in Node", async () => {
  const bytes = mlpOnnx(denseLayers([3, 2], 50), ["tanh"]);
  const dir = mkdtempSync(join(tmpdir(), "mlpgrad-onnx-"));
  try {
    const path = join(dir, "m.onnx");
    writeFileSync(path, bytes);
    const expected = await fromOnnx(bytes);
    assert.equal(await fromOnnx(path), expected);
    assert.equal(await fromOnnx(pathToFileURL(path)), expected);
    assert.equal(await fromOnnxDefault(bytes.slice().buffer), expected);
    await rejectsCode(fromOnnx(join(dir, "nope.onnx")), "E_SOURCE", /could not read/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("unsupported graphs and bad files: typed MLPErrors naming the node and the feature", async () => {
  const d = denseLayers([3, 4, 2], 60);
  const inits = (dataType = FLOAT): TensorSpec[] => d.flatMap((x, l) => [
    { name: `w${l}`, dims: [x.nOut, x.nIn], dataType, values: x.W },
    { name: `b${l}`, dims: [x.nOut], dataType, values: x.b },
  ]);
  const gemm = (i: string, l: number, o: string, name?: string): NodeSpec => ({ op: "Gemm", inputs: [i, `w${l}`, `b${l}`], outputs: [o], name, attrs: { transB: { i: 1 } } });
  const model = (nodes: NodeSpec[], initializers = inits(), out = "y") => onnxModel({ nodes, initializers, input: { name: "x", dims: ["N", 3], elemType: FLOAT }, output: { name: out, dims: ["N", 2], elemType: FLOAT } });
  await rejectsCode(fromOnnx(model([gemm("x", 0, "h"), { op: "Conv", inputs: ["h", "w1"], outputs: ["y"], name: "/conv/Conv" }])), "E_UNSUPPORTED", /node "\/conv\/Conv" \(Conv\)/, /convolution/);
  await rejectsCode(fromOnnx(model([gemm("x", 0, "h"), { op: "HardSwish", inputs: ["h"], outputs: ["a"], name: "hs" }, gemm("a", 1, "y")])), "E_UNSUPPORTED", /node "hs" \(HardSwish\): op HardSwish is not supported/);
  await rejectsCode(fromOnnx(model([gemm("x", 0, "h"), { op: "Relu", inputs: ["h"], outputs: ["r"] }, { op: "Add", inputs: ["h", "r"], outputs: ["s"] }, gemm("s", 1, "y")])), "E_UNSUPPORTED", /feeds .* and .*: a branching graph/);
  await rejectsCode(fromOnnx(model([gemm("x", 0, "h", "g0"), { op: "Softmax", inputs: ["h"], outputs: ["s"], name: "sm", attrs: { axis: { i: 1 } } }, gemm("s", 1, "y")])), "E_UNSUPPORTED", /node "sm" \(Softmax\): softmax on a hidden layer/);
  await rejectsCode(fromOnnx(model([gemm("x", 0, "h"), { op: "Softmax", inputs: ["h"], outputs: ["s"], name: "sm0", attrs: { axis: { i: 0 } } }, gemm("s", 1, "y")])), "E_UNSUPPORTED", /over axis 0/);
  await rejectsCode(fromOnnx(model([gemm("x", 0, "h"), { op: "Clip", inputs: ["h", "lo", "hi"], outputs: ["c"], name: "clip" }, gemm("c", 1, "y")], [...inits(), scalar("lo", -1, FLOAT), scalar("hi", 1, FLOAT)])), "E_UNSUPPORTED", /Clip\(-1, 1\)/);
  await rejectsCode(fromOnnx(model([gemm("x", 0, "h"), { op: "Tanh", inputs: ["h"], outputs: ["t"], name: "t1" }, { op: "Sigmoid", inputs: ["t"], outputs: ["u"], name: "s1" }, gemm("u", 1, "y")])), "E_UNSUPPORTED", /node "s1" \(Sigmoid\): a second activation/);
  await rejectsCode(fromOnnx(model([{ op: "Gemm", inputs: ["w0", "x", "b0"], outputs: ["h"], name: "gx" }, gemm("h", 1, "y")])), "E_UNSUPPORTED", /node "gx" \(Gemm\): the data is not input A/);
  await rejectsCode(fromOnnx(model([{ op: "MatMul", inputs: ["x", "x"], outputs: ["h"], name: "mm" }, gemm("h", 1, "y")])), "E_UNSUPPORTED", /not an initializer or constant/);
  const intWeights = inits().map((t) => ({ ...t, dataType: INT64, values: t.values.map(Math.round) }));
  await rejectsCode(fromOnnx(model([gemm("x", 0, "h"), gemm("h", 1, "y")], intWeights)), "E_UNSUPPORTED", /"w0" holds integers/);
  const bool = onnxModel({ nodes: [gemm("x", 0, "h"), gemm("h", 1, "y")], initializers: [...inits().slice(1), { name: "w0", dims: [4, 3], dataType: 9, values: [], storage: "typed" }], input: { name: "x", dims: ["N", 3], elemType: FLOAT }, output: { name: "y", dims: ["N", 2], elemType: FLOAT } });
  await rejectsCode(fromOnnx(bool), "E_UNSUPPORTED", /tensor "w0": data type BOOL is not supported/);
  // An initializer with external_data (13) and data_location = EXTERNAL (14), which the writer does not make.
  const { BinaryWriter, WireType } = await import("@bufbuild/protobuf/wire");
  const ext = new BinaryWriter().tag(1, WireType.Varint).int64(4).tag(1, WireType.Varint).int64(3).tag(2, WireType.Varint).int32(1).tag(8, WireType.LengthDelimited).string("w0")
    .tag(13, WireType.LengthDelimited).bytes(new BinaryWriter().tag(1, WireType.LengthDelimited).string("location").tag(2, WireType.LengthDelimited).string("w.data").finish())
    .tag(14, WireType.Varint).int32(1).finish();
  const graph = new BinaryWriter().tag(5, WireType.LengthDelimited).bytes(ext).finish();
  const extModel = onnxModel({ nodes: [gemm("x", 0, "h"), gemm("h", 1, "y")], initializers: inits().slice(1), input: { name: "x", dims: ["N", 3], elemType: FLOAT }, output: { name: "y", dims: ["N", 2], elemType: FLOAT } });
  // ModelProto field 7 (graph) may repeat: protobuf merges the two GraphProto messages, adding w0 as external.
  const merged = new Uint8Array([...extModel, ...new BinaryWriter().tag(7, WireType.LengthDelimited).bytes(graph).finish()]);
  await rejectsCode(fromOnnx(merged), "E_UNSUPPORTED", /tensor "w0": external data/);
  await rejectsCode(fromOnnx(new TextEncoder().encode('{"not": "onnx"}')), "E_FORMAT");
  await rejectsCode(fromOnnx(new Uint8Array(0)), "E_FORMAT", /not a ModelProto/);
  await rejectsCode(fromOnnx(model([gemm("x", 0, "h"), gemm("h", 1, "y")]).slice(0, 60)), "E_FORMAT");
  await rejectsCode(fromOnnx(model([gemm("x", 0, "h"), gemm("x", 1, "y")])), "E_UNSUPPORTED", /branching/);
  await rejectsCode(fromOnnx(model([gemm("x", 0, "h"), gemm("h", 0, "y")])), "E_SHAPE", /expects 3 inputs but the layer before gives 4/);
});

test("fuzz: 3000 truncated and corrupted ONNX files → a model or an MLPError, within 4 s", async () => {
  const bytes = mlpOnnx(denseLayers([5, 7, 3], 70), ["relu", "softmax"], { style: "matmulAdd" });
  const codes = await fuzzBytes(bytes, (b) => fromOnnx(b), 3000, 71, 4000);
  assert.ok((codes.get("E_FORMAT") ?? 0) > 300, JSON.stringify([...codes]));
});

test.run();
