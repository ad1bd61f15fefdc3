/**
 * fromSafetensors: an MLP from a safetensors file (PyTorch `safetensors.torch.save_file(model.state_dict())`).
 *
 * Layout: u64 little-endian N, N bytes of UTF-8 JSON `{ name: { dtype, shape, data_offsets: [begin, end] },
 * "__metadata__"?: {…} }`, then the data; offsets are relative to the data's start, tensors little-endian,
 * row-major. `nn.Linear.weight` is [out_features, in_features], which is our W^[l] as it is; `bias` is b^[l].
 *
 * Layers are found as `<prefix>.weight` (+ optional `<prefix>.bias`), prefixes sorted naturally ("2" < "10",
 * "fc2" < "fc10"), or named by the `layers` option. Activations are not stored in the file: pass them.
 */
import { MLPError, describe } from "../errors.js";
import { ChainBuilder, elementCount, type ImportedActivation, type ImportedModel, type ImportOptions } from "./chain.js";
import { bfloat16ToNumber, float16ToNumber } from "./half.js";
import { asFormatErrors, isObject, parseJson, readSource, utf8, type FileAccess, type ModelSource } from "./source.js";

/** Options of fromSafetensors. */
export interface SafetensorsOptions extends ImportOptions {
  /** One activation for layers 2..L, or L−1 of them (names or { name, ...parameters }). Required. */
  activations: ImportedActivation | readonly ImportedActivation[];
  /** The layers in order: tensor-name prefixes ("fc1" → fc1.weight, fc1.bias) or explicit { weight, bias? } names. */
  layers?: readonly (string | { weight: string; bias?: string | null })[];
}

/** The reference implementation's cap on the JSON header. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

interface TensorEntry {
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Reads a safetensors file (bytes, path or URL) into the model object createMLP takes. */
export async function fromSafetensors(source: ModelSource, options: SafetensorsOptions): Promise<ImportedModel> {
  return importSafetensors(source, options, undefined);
}

/** fromSafetensors with file access (the node build passes node:fs). */
export async function importSafetensors(source: ModelSource, options: SafetensorsOptions, files: FileAccess | undefined): Promise<ImportedModel> {
  if (!isObject(options)) {
    throw new MLPError("E_OPTIONS", `fromSafetensors: expected options { activations, precision?, layers? } (activations are not stored in a safetensors file), got ${describe(options)}`);
  }
  const bytes = await readSource(source, "safetensors", files);
  return asFormatErrors("safetensors", () => parseSafetensors(bytes, options));
}

/** The tensors of a safetensors file: header entries by name, and the data section. */
export function readHeader(bytes: Uint8Array): { tensors: Map<string, TensorEntry>; data: Uint8Array } {
  if (bytes.length < 8) throw new MLPError("E_FORMAT", `safetensors: ${bytes.length} bytes is shorter than the 8-byte header length`, { actual: bytes.length });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (n > MAX_HEADER_BYTES || n > bytes.length - 8) {
    throw new MLPError("E_FORMAT", `safetensors: the header claims ${n} bytes; the file has ${bytes.length - 8} after the length (and headers are capped at ${MAX_HEADER_BYTES})`, { actual: n });
  }
  const text = utf8(bytes.subarray(8, 8 + n), "safetensors header");
  if (!text.startsWith("{")) throw new MLPError("E_FORMAT", "safetensors: the header is not a JSON object (it must start with '{')");
  const header = parseJson(text, "safetensors header");
  if (!isObject(header)) throw new MLPError("E_FORMAT", "safetensors: the header is not a JSON object");
  const data = bytes.subarray(8 + n);
  const tensors = new Map<string, TensorEntry>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const where = `tensor ${JSON.stringify(name)}`;
    if (!isObject(entry)) throw new MLPError("E_FORMAT", `safetensors ${where}: expected { dtype, shape, data_offsets }, got ${describe(entry)}`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== "string") throw new MLPError("E_FORMAT", `safetensors ${where}: dtype is not a string`);
    if (!Array.isArray(shape)) throw new MLPError("E_FORMAT", `safetensors ${where}: shape is not an array`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new MLPError("E_FORMAT", `safetensors ${where}: data_offsets must be [begin, end], two non-negative integers`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end || end > data.length) {
      throw new MLPError("E_FORMAT", `safetensors ${where}: data_offsets [${begin}, ${end}] lie outside the ${data.length} data bytes (truncated file?)`, {
        expected: data.length,
        actual: offsets,
      });
    }
    const count = elementCount(shape, data.length, `safetensors ${where}`);
    const size = DTYPE_BYTES[dtype];
    if (size !== undefined && count * size !== end - begin) {
      throw new MLPError("E_FORMAT", `safetensors ${where}: ${dtype} shape [${shape.join(", ")}] needs ${count * size} bytes, data_offsets give ${end - begin}`, {
        expected: count * size,
        actual: end - begin,
      });
    }
    tensors.set(name, { dtype, shape: shape as number[], begin, end });
  }
  return { tensors, data };
}

/** The values of one tensor in f64 (exact for every supported dtype). */
function values(name: string, entry: TensorEntry, data: Uint8Array): Float64Array {
  const size = DTYPE_BYTES[entry.dtype];
  if (size === undefined) {
    throw new MLPError("E_UNSUPPORTED", `safetensors tensor ${JSON.stringify(name)}: dtype ${entry.dtype} is not supported (F64, F32, F16, BF16 are)`, { actual: entry.dtype });
  }
  const view = new DataView(data.buffer, data.byteOffset + entry.begin, entry.end - entry.begin);
  const out = new Float64Array((entry.end - entry.begin) / size);
  for (let i = 0; i < out.length; i++) {
    switch (entry.dtype) {
      case "F64": out[i] = view.getFloat64(i * 8, true); break;
      case "F32": out[i] = view.getFloat32(i * 4, true); break;
      case "F16": out[i] = float16ToNumber(view.getUint16(i * 2, true)); break;
      default: out[i] = bfloat16ToNumber(view.getUint16(i * 2, true));
    }
  }
  return out;
}

/** Natural order: runs of digits compare as numbers, so "2" < "10" and "fc2" < "fc10". */
export function naturalCompare(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

function parseSafetensors(bytes: Uint8Array, options: SafetensorsOptions): ImportedModel {
  const { tensors, data } = readHeader(bytes);
  const plan = layerPlan(tensors, options.layers);
  const acts = options.activations;
  if (acts === undefined || acts === null) {
    throw new MLPError("E_ACTIVATION", "fromSafetensors: options.activations is required (a safetensors file stores no activations): one for all layers or one per layer");
  }
  const list = Array.isArray(acts) ? acts : new Array(plan.length).fill(acts);
  if (list.length !== plan.length) {
    throw new MLPError("E_ACTIVATION", `fromSafetensors: ${list.length} activations for the ${plan.length} layers found (${plan.map((p) => p.weight).join(", ")})`, {
      expected: plan.length,
      actual: list.length,
    });
  }
  const chain = new ChainBuilder("safetensors");
  plan.forEach(({ weight, bias }, i) => {
    const w = tensors.get(weight)!;
    if (w.shape.length !== 2) {
      throw new MLPError("E_UNSUPPORTED", `safetensors tensor ${JSON.stringify(weight)}: shape [${w.shape.join(", ")}] is not a matrix [out, in] (a convolution or a norm layer?)`, {
        layer: i + 2,
        actual: w.shape,
      });
    }
    let b: Float64Array | null = null;
    if (bias !== null) {
      const entry = tensors.get(bias)!;
      if (entry.shape.length !== 1) {
        throw new MLPError("E_FORMAT", `safetensors tensor ${JSON.stringify(bias)}: shape [${entry.shape.join(", ")}] is not a vector`, { layer: i + 2, actual: entry.shape });
      }
      b = values(bias, entry, data);
    }
    chain.dense(`layer ${i + 2} (${weight})`, w.shape[0], w.shape[1], values(weight, w, data), b);
    const a = list[i];
    if (typeof a !== "string" && !isObject(a)) {
      throw new MLPError("E_ACTIVATION", `fromSafetensors: activation ${i + 1} is ${describe(a)}, expected a name or { name, ...parameters }`, { layer: i + 2 });
    }
    chain.activation(`activation of layer ${i + 2}`, a as ImportedActivation);
  });
  return chain.build(options.precision);
}

/** Which tensors make each layer, in order, checked to exist and to leave no unexplained tensor behind. */
function layerPlan(tensors: Map<string, TensorEntry>, layers: SafetensorsOptions["layers"]): { weight: string; bias: string | null }[] {
  const need = (name: string, what: string): string => {
    if (!tensors.has(name)) {
      throw new MLPError("E_FORMAT", `safetensors: ${what} ${JSON.stringify(name)} is not in the file (it has ${[...tensors.keys()].slice(0, 20).map((k) => JSON.stringify(k)).join(", ")})`);
    }
    return name;
  };
  if (layers !== undefined) {
    if (!Array.isArray(layers) || layers.length === 0) throw new MLPError("E_OPTIONS", `fromSafetensors: options.layers must be a non-empty array, got ${describe(layers)}`);
    return layers.map((entry, i) => {
      if (typeof entry === "string") {
        return { weight: need(`${entry}.weight`, `layer ${i + 2} weight`), bias: tensors.has(`${entry}.bias`) ? `${entry}.bias` : null };
      }
      if (!isObject(entry) || typeof entry.weight !== "string") {
        throw new MLPError("E_OPTIONS", `fromSafetensors: options.layers[${i}] must be a prefix or { weight, bias? }, got ${describe(entry)}`);
      }
      const bias = entry.bias;
      return { weight: need(entry.weight, `layer ${i + 2} weight`), bias: typeof bias === "string" ? need(bias, `layer ${i + 2} bias`) : null };
    });
  }
  const prefixes: string[] = [];
  for (const name of tensors.keys()) {
    const m = /^(?:(.*)\.)?(weight|bias)$/.exec(name);
    if (m === null) {
      throw new MLPError("E_UNSUPPORTED", `safetensors tensor ${JSON.stringify(name)}: not a .weight or .bias of a linear layer (a norm's running statistics?); name the layers with options.layers`);
    }
    if (m[2] === "weight") prefixes.push(m[1] ?? "");
    else if (!tensors.has(name.slice(0, -4) + "weight")) {
      throw new MLPError("E_FORMAT", `safetensors tensor ${JSON.stringify(name)}: a bias without its weight ${JSON.stringify(name.slice(0, -4) + "weight")}`);
    }
  }
  if (prefixes.length === 0) throw new MLPError("E_FORMAT", "safetensors: no tensor named <layer>.weight in the file");
  prefixes.sort(naturalCompare);
  return prefixes.map((p) => {
    const dot = p === "" ? "" : ".";
    const bias = `${p}${dot}bias`;
    return { weight: `${p}${dot}weight`, bias: tensors.has(bias) ? bias : null };
  });
}
