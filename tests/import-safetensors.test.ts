/**
 * fromSafetensors against files written here by the safetensors spec (u64 LE header length, JSON header,
 * little-endian row-major data), with F64/F32/F16/BF16 values, out-of-order offsets and keys, PyTorch's
 * nn.Sequential and named-module names; the imported networks are checked against the f64 reference.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { fromSafetensors } from "../src/import/safetensors.node.js";
import { fromSafetensors as fromSafetensorsDefault } from "../src/import/safetensors.js";
import { MLPError } from "../src/index.js";
import { normal, rng } from "./helpers.js";
import { checkAgainstReference, fuzzBytes, inputs, mutateJson, printAgreement, rejectsCode, testNeedingCore, toF16 } from "./import-helpers.js";
import type { Act } from "./import-reference.js";

type Dtype = "F64" | "F32" | "F16" | "BF16" | "I64";
interface Tensor {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** The values as stored (already rounded to the dtype). */
  values: number[];
}

/** bfloat16 by truncating the f32 bits, and the value it holds. */
function toBF16(v: number): [number, number] {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer);
  const bits = u[0] >>> 16;
  u[0] = bits << 16;
  return [bits, f[0]];
}

function encode(t: Tensor): Uint8Array {
  const size = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8 }[t.dtype];
  const out = new Uint8Array(t.values.length * size);
  const view = new DataView(out.buffer);
  t.values.forEach((v, i) => {
    if (t.dtype === "F64") view.setFloat64(8 * i, v, true);
    else if (t.dtype === "F32") view.setFloat32(4 * i, v, true);
    else if (t.dtype === "F16") view.setUint16(2 * i, toF16(v)[0], true);
    else if (t.dtype === "BF16") view.setUint16(2 * i, toBF16(v)[0], true);
    else view.setBigInt64(8 * i, BigInt(v), true);
  });
  return out;
}

/** A safetensors file: data in `dataOrder` (default: reversed), header keys in `keyOrder` (default: sorted descending). */
function safetensorsFile(tensors: Tensor[], opts: { dataOrder?: string[]; keyOrder?: string[]; metadata?: Record<string, string> } = {}): Uint8Array {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const dataOrder = opts.dataOrder ?? tensors.map((t) => t.name).reverse();
  const chunks: Uint8Array[] = [];
  const offsets = new Map<string, [number, number]>();
  let at = 0;
  for (const name of dataOrder) {
    const bytes = encode(byName.get(name)!);
    offsets.set(name, [at, at + bytes.length]);
    chunks.push(bytes);
    at += bytes.length;
  }
  const header: Record<string, unknown> = {};
  if (opts.metadata) header.__metadata__ = opts.metadata;
  for (const name of opts.keyOrder ?? tensors.map((t) => t.name).sort().reverse()) {
    const t = byName.get(name)!;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: offsets.get(name) };
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += " ";
  const head = new TextEncoder().encode(json);
  const file = new Uint8Array(8 + head.length + at);
  new DataView(file.buffer).setBigUint64(0, BigInt(head.length), true);
  file.set(head, 8);
  let pos = 8 + head.length;
  for (const c of chunks) {
    file.set(c, pos);
    pos += c.length;
  }
  return file;
}

/** Random linear layers named `names[i]` (".weight" [out, in], ".bias" unless noBias has the index), values rounded to dtype. */
function linearTensors(sizes: number[], names: string[], dtype: Dtype, seed: number, noBias: number[] = []): Tensor[] {
  const random = rng(seed);
  const round = (v: number) => (dtype === "F64" ? v : dtype === "F32" ? Math.fround(v) : dtype === "F16" ? toF16(v)[1] : toBF16(v)[1]);
  const out: Tensor[] = [];
  for (let l = 1; l < sizes.length; l++) {
    const s = 1.5 / Math.sqrt(sizes[l - 1]);
    out.push({ name: `${names[l - 1]}.weight`, dtype, shape: [sizes[l], sizes[l - 1]], values: Array.from({ length: sizes[l] * sizes[l - 1] }, () => round(normal(random) * s)) });
    if (!noBias.includes(l - 1)) out.push({ name: `${names[l - 1]}.bias`, dtype, shape: [sizes[l]], values: Array.from({ length: sizes[l] }, () => round(normal(random) * 0.3)) });
  }
  return out;
}

function expectedLayers(tensors: Tensor[], names: string[]): { weights: number[]; bias: number[] }[] {
  const get = (n: string) => tensors.find((t) => t.name === n);
  return names.map((p) => {
    const w = get(`${p}.weight`)!;
    return { weights: w.values, bias: get(`${p}.bias`)?.values ?? new Array(w.shape[0]).fill(0) };
  });
}

/** A file from a header text and data bytes, the length field computed. */
function rawFile(json: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const head = new TextEncoder().encode(json);
  const file = new Uint8Array(8 + head.length + data.length);
  new DataView(file.buffer).setBigUint64(0, BigInt(head.length), true);
  file.set(head, 8);
  file.set(data, 8 + head.length);
  return file;
}

const test = suite("import: safetensors");
test.after(() => printAgreement("safetensors"));

test("nn.Sequential names 0, 2, …, 22 order numerically (\"10\" after \"8\"), out-of-order data and keys; f64 and f32 against the reference", async () => {
  const sizes = [3, 5, 4, 7, 1, 8, 17, 3, 5, 4, 7, 2, 3];
  const names = sizes.slice(1).map((_, i) => String(2 * i));
  const tensors = linearTensors(sizes, names, "F32", 11);
  const file = safetensorsFile(tensors, { metadata: { format: "pt" } });
  for (const precision of ["f64", "f32"] as const) {
    const model = await fromSafetensors(file, { activations: "tanh", precision });
    assert.equal(model.sizes, sizes);
    assert.is(model.precision, precision);
    assert.equal(model.activations, new Array(12).fill("tanh"));
    assert.equal(model.layers, expectedLayers(tensors, names));
    checkAgainstReference(model, inputs(3, 4, 5), precision === "f64" ? 1e-12 : 2e-5, `sequential ${precision}`);
  }
});

for (const dtype of ["F64", "F32", "F16", "BF16"] as const) {
  test(`${dtype} tensors: values exact, network agrees with the reference (sizes 5→7→3→1, named modules fc1, fc2, fc10)`, async () => {
    const sizes = [5, 7, 3, 1];
    const names = ["fc1", "fc2", "fc10"];
    const tensors = linearTensors(sizes, names, dtype, 20 + dtype.length);
    const model = await fromSafetensors(safetensorsFile(tensors), { activations: ["sigmoid", "relu", "identity"], precision: "f64" });
    assert.equal(model.sizes, sizes);
    assert.equal(model.layers, expectedLayers(tensors, names));
    checkAgainstReference(model, inputs(5, 3, 9), 1e-12, dtype);
  });
}

test("float16 specials: subnormals, the largest finite, negative zero", async () => {
  const bits = [0x0001, 0x03ff, 0x0400, 0x3c00, 0xc000, 0x7bff, 0x8000, 0x3555];
  const values = [2 ** -24, 1023 * 2 ** -24, 2 ** -14, 1, -2, 65504, -0, 1 + 0x155 / 1024 - 1 + 2 ** -2 * (1 + 0x155 / 1024) - (1 + 0x155 / 1024) + 1];
  values[7] = 2 ** (0x0d - 15) * (1 + 0x155 / 1024);
  const data = new Uint8Array(16);
  bits.forEach((b, i) => new DataView(data.buffer).setUint16(2 * i, b, true));
  const json = JSON.stringify({ "l.weight": { dtype: "F16", shape: [1, 8], data_offsets: [0, 16] } });
  const file = new Uint8Array(8 + json.length + 16);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(new TextEncoder().encode(json), 8);
  file.set(data, 8 + json.length);
  const model = await fromSafetensors(file, { activations: "identity", precision: "f64" });
  assert.equal(model.layers[0].weights, values);
  assert.ok(Object.is(model.layers[0].weights[6], -0));
});

test("layers without bias get zero bias; 1 input, 67 hidden", async () => {
  const sizes = [1, 67, 4];
  const tensors = linearTensors(sizes, ["0", "2"], "F32", 3, [0]);
  const model = await fromSafetensors(safetensorsFile(tensors), { activations: ["softplus", "identity"], precision: "f64" });
  assert.equal(model.layers[0].bias, new Array(67).fill(0));
  checkAgainstReference(model, inputs(1, 3, 4), 1e-12, "no bias");
});

test("options.layers names the order explicitly (prefixes, or { weight, bias })", async () => {
  const sizes = [4, 3, 2];
  const tensors = linearTensors(sizes, ["z_in", "a_out"], "F64", 5);
  const natural = await rejectsCode(fromSafetensors(safetensorsFile(tensors), { activations: "tanh" }), "E_SHAPE", /do not chain/);
  assert.ok(natural);
  const byPrefix = await fromSafetensors(safetensorsFile(tensors), { activations: "tanh", layers: ["z_in", "a_out"], precision: "f64" });
  assert.equal(byPrefix.layers, expectedLayers(tensors, ["z_in", "a_out"]));
  const explicit = await fromSafetensors(safetensorsFile(tensors), {
    activations: "tanh",
    layers: [{ weight: "z_in.weight", bias: "z_in.bias" }, { weight: "a_out.weight", bias: null }],
    precision: "f64",
  });
  assert.equal(explicit.layers[1].bias, [0, 0]);
  assert.equal(explicit.layers[0], byPrefix.layers[0]);
});

const h7Acts: Act[] = [{ name: "leakyRelu", alpha: 0.2 }, { name: "elu", alpha: 0.7 }, "gelu", "swish", "mish", "softmax"];
testNeedingCore(test, "activations from the new format pass through (leakyRelu/elu with parameters, gelu, swish, mish, softmax)", h7Acts, async () => {
  const sizes = [3, 5, 7, 4, 5, 3, 3];
  const names = ["0", "2", "4", "6", "8", "10"];
  const model = await fromSafetensors(safetensorsFile(linearTensors(sizes, names, "F32", 8)), { activations: h7Acts, precision: "f64" });
  checkAgainstReference(model, inputs(3, 3, 2), 1e-11, "new activations");
});

test("sources: path, file: URL, http URL (node build); bytes and http URL (default build); ArrayBuffer and DataView", async () => {
  const tensors = linearTensors([3, 2], ["0"], "F32", 4);
  const file = safetensorsFile(tensors);
  const dir = mkdtempSync(join(tmpdir(), "mlpgrad-st-"));
  const server = createServer((req, res) => {
    if (req.url === "/m.safetensors") res.end(Buffer.from(file));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const path = join(dir, "m.safetensors");
    writeFileSync(path, file);
    const expected = await fromSafetensors(file, { activations: "identity" });
    assert.equal(await fromSafetensors(path, { activations: "identity" }), expected);
    assert.equal(await fromSafetensors(pathToFileURL(path), { activations: "identity" }), expected);
    assert.equal(await fromSafetensors(new URL(`http://127.0.0.1:${port}/m.safetensors`), { activations: "identity" }), expected);
    assert.equal(await fromSafetensorsDefault(`http://127.0.0.1:${port}/m.safetensors`, { activations: "identity" }), expected);
    assert.equal(await fromSafetensorsDefault(file.slice().buffer, { activations: "identity" }), expected);
    assert.equal(await fromSafetensorsDefault(new DataView(file.buffer), { activations: "identity" }), expected);
    await rejectsCode(fromSafetensorsDefault(pathToFileURL(path), { activations: "identity" }), "E_SOURCE", /file URL/, /bytes/);
    await rejectsCode(fromSafetensors(join(dir, "missing.safetensors"), { activations: "identity" }), "E_SOURCE", /could not read/);
    await rejectsCode(fromSafetensors(new URL(`http://127.0.0.1:${port}/nope`), { activations: "identity" }), "E_SOURCE", /HTTP 404/);
    await rejectsCode(fromSafetensors(42 as never, { activations: "identity" }), "E_SOURCE", /expected bytes/);
    // The CommonJS build (require("mlpgrad/safetensors")) reads a path too.
    const required = createRequire(import.meta.url)("../../dist/safetensors.node.cjs") as { fromSafetensors: typeof fromSafetensors };
    assert.equal(await required.fromSafetensors(path, { activations: "identity" }), expected);
  } finally {
    server.close();
    rmSync(dir, { recursive: true });
  }
});

test("bad files and options: each a typed MLPError naming the tensor and the problem", async () => {
  const good = linearTensors([3, 2, 2], ["0", "2"], "F32", 1);
  const file = safetensorsFile(good);
  const huge = file.slice();
  new DataView(huge.buffer).setBigUint64(0, 2n ** 62n, true);
  await rejectsCode(fromSafetensors(huge, { activations: "tanh" }), "E_FORMAT", /header claims/);
  await rejectsCode(fromSafetensors(file.slice(0, 5), { activations: "tanh" }), "E_FORMAT", /shorter than the 8-byte/);
  await rejectsCode(fromSafetensors(file.slice(0, file.length - 4), { activations: "tanh" }), "E_FORMAT", /outside the .* data bytes/);
  await rejectsCode(fromSafetensors(file, {} as never), "E_ACTIVATION", /required/);
  await rejectsCode(fromSafetensors(file, undefined as never), "E_OPTIONS", /activations are not stored/);
  await rejectsCode(fromSafetensors(file, { activations: ["tanh"] }), "E_ACTIVATION", /1 activations for the 2 layers/);
  await rejectsCode(fromSafetensors(file, { activations: "tanh", layers: ["9"] }), "E_FORMAT", /"9.weight" is not in the file/);
  await rejectsCode(fromSafetensors(file, { activations: ["softmax", "identity"] }), "E_UNSUPPORTED", /softmax on a hidden layer/);
  const notJson = file.slice();
  notJson[9] = 0x7b;
  notJson[10] = 0x7b;
  await rejectsCode(fromSafetensors(notJson, { activations: "tanh" }), "E_FORMAT", /not valid JSON/);
  const withNorm = safetensorsFile([...good, { name: "1.running_mean", dtype: "F32", shape: [2], values: [0, 0] }]);
  await rejectsCode(fromSafetensors(withNorm, { activations: "tanh" }), "E_UNSUPPORTED", /"1.running_mean"/, /options.layers/);
  const conv = safetensorsFile([{ name: "0.weight", dtype: "F32", shape: [2, 1, 3], values: [1, 2, 3, 4, 5, 6] }]);
  await rejectsCode(fromSafetensors(conv, { activations: "tanh" }), "E_UNSUPPORTED", /"0.weight".*not a matrix/);
  const ints = safetensorsFile([{ name: "0.weight", dtype: "I64", shape: [1, 2], values: [1, 2] }]);
  await rejectsCode(fromSafetensors(ints, { activations: "tanh" }), "E_UNSUPPORTED", /dtype I64/);
  const wrongSize = safetensorsFile([{ name: "0.weight", dtype: "F32", shape: [1, 2], values: [1, 2] }]);
  const patched = new TextDecoder().decode(wrongSize).replace('"shape":[1,2]', '"shape":[1,3]');
  await rejectsCode(fromSafetensors(new TextEncoder().encode(patched), { activations: "tanh" }), "E_FORMAT", /needs 12 bytes, data_offsets give 8/);
  const chainBreak = safetensorsFile([...linearTensors([3, 2], ["0"], "F32", 1), ...linearTensors([4, 2], ["2"], "F32", 2)]);
  await rejectsCode(fromSafetensors(chainBreak, { activations: "tanh" }), "E_SHAPE", /layer 3 \(2.weight\): expects 4 inputs but the layer before gives 2/);
  const bomb = rawFile('{"0.weight":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}', new Uint8Array(8));
  await rejectsCode(fromSafetensors(bomb, { activations: "tanh" }), "E_FORMAT", /claims more elements/);
});

test("JSON keys cannot pollute prototypes: __proto__, constructor as tensor names", async () => {
  const json = '{"__proto__":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"constructor.weight":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]}}';
  const file = new Uint8Array(8 + json.length + 4);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(new TextEncoder().encode(json), 8);
  new DataView(file.buffer).setFloat32(8 + json.length, 2, true);
  await rejectsCode(fromSafetensors(file, { activations: "tanh" }), "E_UNSUPPORTED", /"__proto__"/);
  assert.is(({} as Record<string, unknown>).dtype, undefined);
  const json2 = '{"constructor.weight":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]}}';
  const file2 = new Uint8Array(8 + json2.length + 4);
  new DataView(file2.buffer).setBigUint64(0, BigInt(json2.length), true);
  file2.set(new TextEncoder().encode(json2), 8);
  new DataView(file2.buffer).setFloat32(8 + json2.length, 2, true);
  const model = await fromSafetensors(file2, { activations: "tanh" });
  assert.equal(model.layers, [{ weights: [2], bias: [0] }]);
});

test("fuzz: 3000 truncated, bit-flipped and overwritten files → a model or an MLPError, within 3 s", async () => {
  const file = safetensorsFile(linearTensors([5, 7, 3], ["0", "2"], "F16", 6));
  const codes = await fuzzBytes(file, (b) => fromSafetensors(b, { activations: "tanh" }), 3000, 77, 3000);
  assert.ok((codes.get("E_FORMAT") ?? 0) > 500, `E_FORMAT seen ${codes.get("E_FORMAT")} times`);
});

test("mutated headers (2000 cases, JSON damaged then re-framed) → a model or an MLPError, within 3 s; no prototype pollution", async () => {
  const file = safetensorsFile(linearTensors([5, 7, 3], ["0", "2"], "F32", 6));
  const n = Number(new DataView(file.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n)));
  const data = file.subarray(8 + n);
  const random = rng(5);
  const codes = new Map<string, number>();
  const start = performance.now();
  for (let i = 0; i < 2000; i++) {
    const text = JSON.stringify(mutateJson(header, random));
    try {
      await fromSafetensors(rawFile(text, data), { activations: "tanh" });
      codes.set("ok", (codes.get("ok") ?? 0) + 1);
    } catch (error) {
      if (!(error instanceof MLPError)) assert.unreachable(`case ${i}: ${String(error)}\n${text.slice(0, 300)}`);
      codes.set((error as MLPError).code, (codes.get((error as MLPError).code) ?? 0) + 1);
    }
  }
  const elapsed = performance.now() - start;
  assert.ok(elapsed < 3000, `2000 cases took ${elapsed.toFixed(0)} ms`);
  assert.ok((codes.get("ok") ?? 0) > 10 && (codes.get("E_FORMAT") ?? 0) > 100, JSON.stringify([...codes]));
  assert.is(({} as Record<string, unknown>).dtype, undefined);
});

test.run();
