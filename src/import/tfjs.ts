/**
 * fromTfjs: an MLP from a TensorFlow.js / Keras layers model (`model.json` + `.bin` shards).
 *
 * model.json: { format: "layers-model", modelTopology, weightsManifest: [{ paths, weights: [spec…] }] }.
 * modelTopology is tfjs-layers' `{ class_name, config }` or the Python converter's `{ model_config: {…} }`;
 * Sequential configs list `layers`, Functional ones also `inbound_nodes` (Keras 2: [[[name, 0, 0, {}]]],
 * Keras 3: [{ args: [{ class_name: "__keras_tensor__", config: { keras_history: [name, 0, 0] } }] }]).
 * The shards of all groups, concatenated in order, hold the weight specs of all groups one after another,
 * each prod(shape) × size(quantization.dtype ?? dtype) bytes; quantized values are q·scale + min.
 *
 * A Dense layer computes y = x·K + b with its kernel K stored [n_in][n_out]: W^[l] = Kᵀ. All values are
 * float32 in TF.js, so the imported weights are exactly the f32 numbers the tool used.
 */
import { MLPError, describe } from "../errors.js";
import { ChainBuilder, elementCount, transpose, type ImportedActivation, type ImportedModel, type ImportOptions } from "./chain.js";
import { float16ToNumber } from "./half.js";
import { asBytes, asFormatErrors, isObject, isUrl, own, parseJson, readSource, resolveBeside, utf8, type FileAccess } from "./source.js";

/** model.json by path or URL; model.json and its weights in memory; or what tf.io.withSaveHandler hands over. */
export type TfjsSource =
  | string
  | URL
  | { modelJSON: unknown; weights: ArrayBuffer | ArrayBufferView | readonly (ArrayBuffer | ArrayBufferView)[] }
  | { modelTopology: unknown; weightSpecs?: unknown; weightData?: ArrayBuffer | readonly ArrayBuffer[] };

const MAX_SHARDS = 10_000;
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, float16: 2, uint8: 1, uint16: 2 };
const NO_OPS = new Set(["Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization"]);

/** Reads a TF.js layers model into the model object createMLP takes. */
export async function fromTfjs(source: TfjsSource, options: ImportOptions = {}): Promise<ImportedModel> {
  return importTfjs(source, options, undefined);
}

/** fromTfjs with file access (the node build passes node:fs). */
export async function importTfjs(source: TfjsSource, options: ImportOptions, files: FileAccess | undefined): Promise<ImportedModel> {
  if (!isObject(options ?? {})) throw new MLPError("E_OPTIONS", `fromTfjs: options must be an object { precision }, got ${describe(options)}`);
  let topology: unknown;
  let manifest: unknown;
  let shards: Uint8Array[];
  if (typeof source === "string" || isUrl(source)) {
    const json = await asFormatErrors("model.json", async () => parseJson(utf8(await readSource(source, "model.json", files), "model.json"), "model.json"));
    ({ topology, manifest } = modelFile(json));
    const paths = manifestPaths(manifest);
    shards = [];
    for (const path of paths) shards.push(await readSource(resolveBeside(source, path, "model.json weightsManifest"), `weights shard ${JSON.stringify(path)}`, files));
  } else if (isObject(source) && Object.prototype.hasOwnProperty.call(source, "modelJSON")) {
    let json: unknown = (source as { modelJSON: unknown }).modelJSON;
    const bytes = asBytes(json);
    if (bytes !== undefined) json = utf8(bytes, "modelJSON");
    if (typeof json === "string") json = parseJson(json, "modelJSON");
    ({ topology, manifest } = modelFile(json));
    manifestPaths(manifest);
    shards = bufferList((source as { weights: unknown }).weights, "weights");
  } else if (isObject(source) && Object.prototype.hasOwnProperty.call(source, "modelTopology")) {
    topology = own(source, "modelTopology");
    const specs = own(source, "weightSpecs");
    manifest = [{ paths: [], weights: specs ?? [] }];
    const data = own(source, "weightData");
    shards = data === undefined ? [] : bufferList(data, "weightData");
  } else {
    throw new MLPError("E_SOURCE", `fromTfjs: expected a model.json path or URL, { modelJSON, weights }, or tf.io.ModelArtifacts, got ${describe(source)}`);
  }
  return asFormatErrors("TF.js model", () => {
    const weights = readWeights(manifest, shards);
    return buildChain(topology, weights).build(options?.precision);
  });
}

/** The topology and manifest of a parsed model.json. */
function modelFile(json: unknown): { topology: unknown; manifest: unknown } {
  if (!isObject(json)) throw new MLPError("E_FORMAT", `model.json: expected a JSON object, got ${describe(json)}`);
  const format = own(json, "format");
  if (format === "graph-model" || own(json, "modelTopology") !== undefined && isObject(own(json, "modelTopology")) && own(own(json, "modelTopology"), "node") !== undefined) {
    throw new MLPError("E_UNSUPPORTED", "model.json: a TF.js graph model; convert a Keras model with `tensorflowjs_converter --input_format keras --output_format tfjs_layers_model` instead");
  }
  if (format !== undefined && format !== "layers-model") throw new MLPError("E_FORMAT", `model.json: format ${JSON.stringify(format)} is not "layers-model"`);
  const topology = own(json, "modelTopology");
  if (topology === undefined) throw new MLPError("E_FORMAT", "model.json: no modelTopology");
  return { topology, manifest: own(json, "weightsManifest") ?? [] };
}

function manifestPaths(manifest: unknown): string[] {
  if (!Array.isArray(manifest)) throw new MLPError("E_FORMAT", `model.json weightsManifest: expected an array of { paths, weights }, got ${describe(manifest)}`);
  const paths: string[] = [];
  manifest.forEach((group, g) => {
    const p = own(group, "paths");
    if (!Array.isArray(p) || !p.every((s) => typeof s === "string")) throw new MLPError("E_FORMAT", `model.json weightsManifest[${g}].paths: expected an array of file names`);
    paths.push(...(p as string[]));
    if (paths.length > MAX_SHARDS) throw new MLPError("E_FORMAT", `model.json weightsManifest: more than ${MAX_SHARDS} shards`);
  });
  return paths;
}

function bufferList(value: unknown, what: string): Uint8Array[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length > MAX_SHARDS) throw new MLPError("E_FORMAT", `${what}: more than ${MAX_SHARDS} shards`);
  return list.map((item, i) => {
    const bytes = asBytes(item);
    if (bytes === undefined) throw new MLPError("E_SOURCE", `${what}${Array.isArray(value) ? `[${i}]` : ""}: expected an ArrayBuffer or Uint8Array, got ${describe(item)}`);
    return bytes;
  });
}

interface Tensor {
  shape: number[];
  values: Float64Array;
}

/** Every weight of the manifest by name, decoded from the concatenated shards. */
function readWeights(manifest: unknown, shards: Uint8Array[]): Map<string, Tensor> {
  const total = shards.reduce((sum, s) => sum + s.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const s of shards) {
    all.set(s, at);
    at += s.length;
  }
  const view = new DataView(all.buffer);
  const weights = new Map<string, Tensor>();
  let offset = 0;
  (manifest as unknown[]).forEach((group, g) => {
    const specs = own(group, "weights");
    if (!Array.isArray(specs)) throw new MLPError("E_FORMAT", `weightsManifest[${g}].weights: expected an array of weight specs, got ${describe(specs)}`);
    for (const spec of specs) {
      const name = own(spec, "name");
      const where = `weight ${JSON.stringify(name)}`;
      if (typeof name !== "string") throw new MLPError("E_FORMAT", `weightsManifest[${g}]: a weight spec without a name`);
      const shape = own(spec, "shape");
      if (!Array.isArray(shape)) throw new MLPError("E_FORMAT", `${where}: shape is not an array`);
      const dtype = own(spec, "dtype");
      const quantization = own(spec, "quantization");
      const stored = isObject(quantization) ? own(quantization, "dtype") : dtype;
      const size = typeof stored === "string" ? DTYPE_BYTES[stored] : undefined;
      if (size === undefined || !Object.prototype.hasOwnProperty.call(DTYPE_BYTES, stored as string)) {
        throw new MLPError("E_UNSUPPORTED", `${where}: stored dtype ${JSON.stringify(stored)} is not supported (float32, float16, uint8/uint16 quantized)`, { actual: stored });
      }
      const count = elementCount(shape, Math.floor((total - offset) / size), where);
      const bytes = count * size;
      const isFloatWeight = dtype === "float32" && (stored === "float32" || stored === "float16" || stored === "uint8" || stored === "uint16");
      if (isFloatWeight && !weights.has(name)) {
        weights.set(name, { shape: shape as number[], values: decode(view, offset, count, stored as string, quantization, where) });
      }
      offset += bytes;
    }
  });
  if (offset !== total) {
    throw new MLPError("E_FORMAT", `weights: the manifest describes ${offset} bytes but the shards hold ${total} (a missing, extra or truncated shard?)`, {
      expected: offset,
      actual: total,
    });
  }
  return weights;
}

function decode(view: DataView, offset: number, count: number, stored: string, quantization: unknown, where: string): Float64Array {
  const out = new Float64Array(count);
  if (stored === "float32") {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, true);
  } else if (stored === "float16") {
    for (let i = 0; i < count; i++) out[i] = float16ToNumber(view.getUint16(offset + 2 * i, true));
  } else {
    const scale = own(quantization, "scale");
    const min = own(quantization, "min");
    if (typeof scale !== "number" || typeof min !== "number" || !Number.isFinite(scale) || !Number.isFinite(min)) {
      throw new MLPError("E_FORMAT", `${where}: ${stored} quantization needs finite numbers scale and min`);
    }
    // As tfjs: q·scale + min in double, stored as float32.
    for (let i = 0; i < count; i++) {
      const q = stored === "uint8" ? view.getUint8(offset + i) : view.getUint16(offset + 2 * i, true);
      out[i] = Math.fround(q * scale + min);
    }
  }
  return out;
}

interface KerasLayer {
  className: string;
  name: string;
  config: Record<string, unknown>;
  where: string;
}

/** The model's layers in chain order, from a Sequential or a chain-shaped Functional topology. */
function chainLayers(topology: unknown): { layers: KerasLayer[]; keras3: boolean } {
  if (!isObject(topology)) throw new MLPError("E_FORMAT", `modelTopology: expected an object, got ${describe(topology)}`);
  let version = own(topology, "keras_version");
  let model: unknown = topology;
  if (own(topology, "model_config") !== undefined) {
    model = own(topology, "model_config");
    if (!isObject(model)) throw new MLPError("E_FORMAT", "modelTopology.model_config: expected an object");
  }
  version ??= own(model, "keras_version");
  const className = own(model, "class_name");
  const config = own(model, "config");
  let keras3 = typeof version === "string" && /^3\./.test(version);
  const rawLayers = Array.isArray(config) ? config : own(config, "layers");
  if (!Array.isArray(rawLayers)) throw new MLPError("E_FORMAT", `modelTopology: ${String(className)} config has no layers array`);
  const layers = rawLayers.map((raw, i): KerasLayer => {
    const c = own(raw, "class_name");
    const cfg = own(raw, "config");
    if (typeof c !== "string" || !isObject(cfg)) throw new MLPError("E_FORMAT", `modelTopology layer ${i}: expected { class_name, config }`);
    const name = own(cfg, "name") ?? own(raw, "name") ?? `#${i}`;
    if (typeof name !== "string") throw new MLPError("E_FORMAT", `modelTopology layer ${i}: name is not a string`);
    if (isObject(own(cfg, "dtype")) || own(cfg, "batch_shape") !== undefined) keras3 = true;
    return { className: c, name, config: cfg, where: `layer ${JSON.stringify(name)} (${c})` };
  });
  if (className === "Sequential") return { layers, keras3 };
  if (className !== "Functional" && className !== "Model") {
    throw new MLPError("E_UNSUPPORTED", `modelTopology: model class ${JSON.stringify(className)} is not supported (Sequential, Functional)`);
  }
  return { layers: functionalChain(layers, own(config, "input_layers"), own(config, "output_layers"), rawLayers), keras3 };
}

/** [name, node, tensor] references of one inbound node, in either Keras 2's or Keras 3's form. */
function inboundNames(node: unknown, where: string): string[] {
  if (Array.isArray(node)) {
    return node.map((ref) => {
      if (!Array.isArray(ref) || typeof ref[0] !== "string") throw new MLPError("E_FORMAT", `${where}: malformed inbound node`);
      return ref[0];
    });
  }
  const args = own(node, "args");
  if (!Array.isArray(args)) throw new MLPError("E_FORMAT", `${where}: malformed inbound node (no args)`);
  const names: string[] = [];
  const visit = (arg: unknown, depth: number): void => {
    if (depth > 4) return;
    if (Array.isArray(arg)) for (const a of arg) visit(a, depth + 1);
    else if (own(arg, "class_name") === "__keras_tensor__") {
      const history = own(own(arg, "config"), "keras_history");
      if (!Array.isArray(history) || typeof history[0] !== "string") throw new MLPError("E_FORMAT", `${where}: malformed keras_history`);
      names.push(history[0]);
    }
  };
  visit(args, 0);
  return names;
}

/** Single reference [name, 0, 0] or list of them → names. */
function endpointNames(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) throw new MLPError("E_FORMAT", `modelTopology ${what}: expected a list of [name, 0, 0]`);
  if (typeof value[0] === "string") return [value[0]];
  return value.map((ref) => {
    if (!Array.isArray(ref) || typeof ref[0] !== "string") throw new MLPError("E_FORMAT", `modelTopology ${what}: expected [name, 0, 0] entries`);
    return ref[0];
  });
}

function functionalChain(layers: KerasLayer[], inputs: unknown, outputs: unknown, raw: unknown[]): KerasLayer[] {
  const ins = endpointNames(inputs, "input_layers");
  const outs = endpointNames(outputs, "output_layers");
  if (ins.length !== 1 || outs.length !== 1) {
    throw new MLPError("E_UNSUPPORTED", `modelTopology: ${ins.length} inputs and ${outs.length} outputs; an MLP has one of each`);
  }
  const byName = new Map<string, { layer: KerasLayer; from: string | undefined }>();
  layers.forEach((layer, i) => {
    const nodes = own(raw[i], "inbound_nodes") ?? [];
    if (!Array.isArray(nodes)) throw new MLPError("E_FORMAT", `${layer.where}: inbound_nodes is not an array`);
    if (nodes.length > 1) throw new MLPError("E_UNSUPPORTED", `${layer.where}: used ${nodes.length} times (a shared layer); a chain uses each layer once`);
    const from = nodes.length === 0 ? [] : inboundNames(nodes[0], layer.where);
    if (from.length > 1) throw new MLPError("E_UNSUPPORTED", `${layer.where}: has ${from.length} inputs (${from.join(", ")}): a branching graph is not an MLP`);
    if (byName.has(layer.name)) throw new MLPError("E_FORMAT", `${layer.where}: two layers share the name`);
    byName.set(layer.name, { layer, from: from[0] });
  });
  const order: KerasLayer[] = [];
  let name: string | undefined = outs[0];
  while (name !== undefined) {
    const entry = byName.get(name);
    if (entry === undefined) throw new MLPError("E_FORMAT", `modelTopology: layer ${JSON.stringify(name)} is referenced but not defined`);
    if (order.length > layers.length) throw new MLPError("E_FORMAT", "modelTopology: the layers form a cycle");
    order.push(entry.layer);
    if (entry.from === undefined && name !== ins[0]) throw new MLPError("E_FORMAT", `${entry.layer.where}: has no input but is not the model input ${JSON.stringify(ins[0])}`);
    name = entry.from;
  }
  if (order.length !== layers.length) {
    const unused = layers.filter((l) => !order.includes(l)).map((l) => l.where);
    throw new MLPError("E_UNSUPPORTED", `modelTopology: ${unused.join(", ")} not on the chain from input to output (a branching graph)`);
  }
  return order.reverse();
}

/** A Keras/TF.js activation (string, or Keras 3's serialised function object) in our format. */
function kerasActivation(value: unknown, where: string, keras3: boolean): ImportedActivation {
  let name: unknown = value ?? "linear";
  if (isObject(name)) name = own(name, "config") ?? own(name, "class_name");
  if (typeof name !== "string") throw new MLPError("E_FORMAT", `${where}: activation is ${describe(value)}, not a name`);
  switch (name) {
    case "linear": case "identity": return "identity";
    case "sigmoid": case "tanh": case "relu": case "softplus": case "softsign": case "selu": case "relu6": case "mish": case "softmax":
      return name;
    case "swish": case "silu": return "swish";
    case "elu": return { name: "elu", alpha: 1 };
    case "gelu": return "gelu";
    case "gelu_new": return "geluTanh";
    case "logSoftmax": case "log_softmax": return "logSoftmax";
    case "hardSigmoid": case "hard_sigmoid":
      return keras3 ? { name: "hardSigmoid", slope: 1 / 6, offset: 0.5 } : { name: "hardSigmoid", slope: 0.2, offset: 0.5 };
    case "leaky_relu": return { name: "leakyRelu", alpha: 0.2 };
    default:
      throw new MLPError("E_UNSUPPORTED", `${where}: activation ${JSON.stringify(name)} is not supported`, { actual: name });
  }
}

function num(config: Record<string, unknown>, key: string, fallback: number, where: string): number {
  const v = own(config, key) ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new MLPError("E_FORMAT", `${where}: ${key} is ${describe(v)}, not a number`);
  return v;
}

function dimsOf(shape: unknown, where: string, key: string): number[] {
  if (!Array.isArray(shape) || shape.length < 2) throw new MLPError("E_FORMAT", `${where}: ${key} must be [batch, …dims], got ${describe(shape)}`);
  const dims = shape.slice(1);
  elementCount(dims, 2 ** 31, `${where} ${key}`);
  return dims as number[];
}

/** Walks the layers, tracking the (non-batch) shape, into a ChainBuilder. */
function buildChain(topology: unknown, weights: Map<string, Tensor>): ChainBuilder {
  const { layers, keras3 } = chainLayers(topology);
  const chain = new ChainBuilder("TF.js");
  let shape: number[] | undefined;
  const product = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);
  for (const layer of layers) {
    const { config, where } = layer;
    const declared = own(config, "batch_input_shape") ?? own(config, "batch_shape");
    if (declared !== undefined && declared !== null) shape = dimsOf(declared, where, "batch_input_shape");
    else if (Array.isArray(own(config, "input_shape"))) shape = dimsOf([null, ...(own(config, "input_shape") as unknown[])], where, "input_shape");
    switch (layer.className) {
      case "InputLayer":
        break;
      case "Dense": {
        if (shape !== undefined && shape.length !== 1) {
          throw new MLPError("E_UNSUPPORTED", `${where}: applied to a tensor of shape [${shape.join(", ")}] (Dense acts on the last axis only); put a Flatten before it`);
        }
        if (shape !== undefined) chain.input(shape[0], where);
        const kernel = findWeight(weights, layer.name, "kernel", where);
        const units = own(config, "units");
        if (kernel.shape.length !== 2 || (units !== undefined && kernel.shape[1] !== units)) {
          throw new MLPError("E_FORMAT", `${where}: kernel shape [${kernel.shape.join(", ")}] is not [n_in, units = ${String(units)}]`, { actual: kernel.shape });
        }
        const [nIn, nOut] = kernel.shape;
        let bias: Float64Array | null = null;
        if (own(config, "use_bias") !== false) {
          const b = findWeight(weights, layer.name, "bias", where);
          if (b.shape.length !== 1 || b.shape[0] !== nOut) throw new MLPError("E_FORMAT", `${where}: bias shape [${b.shape.join(", ")}] is not [${nOut}]`, { actual: b.shape });
          bias = b.values;
        }
        chain.dense(where, nOut, nIn, transpose(kernel.values, nIn, nOut), bias);
        chain.activation(where, kerasActivation(own(config, "activation"), where, keras3));
        shape = [nOut];
        break;
      }
      case "Flatten":
        if (shape !== undefined) shape = [product(shape)];
        break;
      case "Reshape": {
        const target = own(config, "target_shape");
        if (!Array.isArray(target) || !target.every((d) => Number.isSafeInteger(d) && (d === -1 || d > 0))) {
          throw new MLPError("E_FORMAT", `${where}: target_shape ${describe(target)} is not a list of dims`);
        }
        const dims = target as number[];
        if (shape !== undefined) {
          const known = product(dims.filter((d) => d !== -1));
          const resolved = dims.map((d) => (d === -1 ? product(shape!) / known : d));
          if (product(resolved) !== product(shape) || !resolved.every(Number.isInteger)) {
            throw new MLPError("E_SHAPE", `${where}: cannot reshape [${shape.join(", ")}] to [${dims.join(", ")}]`);
          }
          shape = resolved;
        } else if (!dims.includes(-1)) shape = dims;
        break;
      }
      case "Activation":
        chain.activation(where, kerasActivation(own(config, "activation"), where, keras3));
        break;
      case "LeakyReLU": {
        const alpha = own(config, "negative_slope") !== undefined ? num(config, "negative_slope", 0.3, where) : num(config, "alpha", 0.3, where);
        chain.activation(where, { name: "leakyRelu", alpha });
        break;
      }
      case "ELU":
        chain.activation(where, { name: "elu", alpha: num(config, "alpha", 1, where) });
        break;
      case "ReLU": {
        const max = own(config, "max_value") ?? null;
        const slope = num(config, "negative_slope", 0, where);
        const threshold = num(config, "threshold", 0, where);
        if (threshold !== 0) throw new MLPError("E_UNSUPPORTED", `${where}: ReLU threshold ${threshold} is not supported (0 is)`);
        if (max === null && slope === 0) chain.activation(where, "relu");
        else if (max === null) chain.activation(where, { name: "leakyRelu", alpha: slope });
        else if (max === 6 && slope === 0) chain.activation(where, "relu6");
        else throw new MLPError("E_UNSUPPORTED", `${where}: ReLU with max_value ${String(max)} and negative_slope ${slope} is not supported (relu, leaky, relu6 are)`);
        break;
      }
      case "Softmax": {
        const axis = own(config, "axis") ?? -1;
        const axes = Array.isArray(axis) ? axis : [axis];
        if (axes.length !== 1 || !(axes[0] === -1 || (axes[0] === 1 && (shape === undefined || shape.length === 1)))) {
          throw new MLPError("E_UNSUPPORTED", `${where}: softmax over axis ${JSON.stringify(axis)} is not supported (the last axis is)`);
        }
        chain.activation(where, "softmax");
        break;
      }
      default:
        if (NO_OPS.has(layer.className)) break;
        throw new MLPError(
          "E_UNSUPPORTED",
          `${where}: layer class ${layer.className} is not supported${/Conv/.test(layer.className) ? " (a convolution is not an MLP)" : ""}; supported: Dense, InputLayer, Dropout, Flatten, Reshape, Activation, LeakyReLU, ELU, ReLU, Softmax`,
          { actual: layer.className },
        );
    }
  }
  if (shape !== undefined && shape.length !== 1) throw new MLPError("E_UNSUPPORTED", `TF.js: the model's output has shape [${shape.join(", ")}], not a vector`);
  return chain;
}

/** `<layer>/kernel` (or the one name ending in `/<layer>/kernel`, for converters that prefix the model name). */
function findWeight(weights: Map<string, Tensor>, layer: string, kind: string, where: string): Tensor {
  const exact = weights.get(`${layer}/${kind}`);
  if (exact !== undefined) return exact;
  const suffix = `/${layer}/${kind}`;
  const matches = [...weights.keys()].filter((k) => k.endsWith(suffix));
  if (matches.length === 1) return weights.get(matches[0])!;
  throw new MLPError(
    "E_FORMAT",
    matches.length > 1
      ? `${where}: several weights match ${kind} (${matches.join(", ")})`
      : `${where}: no float32 weight named "${layer}/${kind}" in the manifest (it has ${[...weights.keys()].slice(0, 12).join(", ")})`,
  );
}
