/**
 * fromOnnx: an MLP from an ONNX model (PyTorch's `torch.onnx.export`), parsed with @bufbuild/protobuf's wire
 * reader (no generated code, no eval), field numbers from onnx.proto:
 *
 *   ModelProto { graph 7, opset_import 8 { domain 1, version 2 } }
 *   GraphProto { node 1, initializer 5, input 11, output 12 }
 *   NodeProto  { input 1, output 2, name 3, op_type 4, attribute 5, domain 7 }
 *   AttributeProto { name 1, f 2, i 3, s 4, t 5, floats 7, ints 8 }
 *   TensorProto { dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, name 8, raw_data 9,
 *                 double_data 10, external_data 13, data_location 14 }
 *   ValueInfoProto { name 1, type 2 { tensor_type 1 { elem_type 1, shape 2 { dim 1 { dim_value 1, dim_param 2 } } } } }
 *
 * The graph must be a chain from its one input to its one output: Gemm (Y = α·A·op(B) + β·C, so
 * W^[l] = α·B when transB = 1, α·Bᵀ when 0; b^[l] = β·C) or MatMul (W = Bᵀ) + Add, then at most one
 * activation, per layer; Transpose of an initializer is folded; Flatten/Reshape to a vector, Identity and
 * Dropout pass the vector through; Mul(x, Sigmoid(x)) is swish and Mul(x, Tanh(Softplus(x))) is mish.
 */
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { MLPError } from "../errors.js";
import { ChainBuilder, elementCount, transpose, type ImportedActivation, type ImportedModel, type ImportOptions } from "./chain.js";
import { bfloat16ToNumber, float16ToNumber } from "./half.js";
import { asFormatErrors, readSource, type FileAccess, type ModelSource } from "./source.js";

const enum DataType {
  FLOAT = 1,
  INT32 = 6,
  INT64 = 7,
  FLOAT16 = 10,
  DOUBLE = 11,
  BFLOAT16 = 16,
}
const TYPE_NAMES: Record<number, string> = { 1: "FLOAT", 2: "UINT8", 3: "INT8", 6: "INT32", 7: "INT64", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 16: "BFLOAT16" };

interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  floatData: number[];
  doubleData: number[];
  int32Data: number[];
  int64Data: number[];
  raw: Uint8Array | undefined;
  external: boolean;
}

interface Attribute {
  name: string;
  f?: number;
  i?: number;
  s?: string;
  t?: TensorProto;
  floats: number[];
  ints: number[];
}

interface NodeProto {
  inputs: string[];
  outputs: string[];
  name: string;
  opType: string;
  domain: string;
  attributes: Map<string, Attribute>;
  where: string;
}

interface ValueInfo {
  name: string;
  dims: (number | undefined)[] | undefined;
}

interface Graph {
  nodes: NodeProto[];
  initializers: Map<string, TensorProto>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

/** Reads an ONNX model (bytes, path or URL) into the model object createMLP takes. */
export async function fromOnnx(source: ModelSource, options: ImportOptions = {}): Promise<ImportedModel> {
  return importOnnx(source, options, undefined);
}

/** fromOnnx with file access (the node build passes node:fs). */
export async function importOnnx(source: ModelSource, options: ImportOptions, files: FileAccess | undefined): Promise<ImportedModel> {
  const bytes = await readSource(source, "ONNX model", files);
  return asFormatErrors("ONNX model", () => {
    const { graph, opset } = readModel(bytes);
    return buildChain(graph, opset).build(options?.precision);
  });
}

// ---- protobuf reading ------------------------------------------------------------------------------

/** Calls `field` for each field of the message in `bytes`; fields it does not take are skipped. */
function eachField(bytes: Uint8Array, field: (no: number, type: WireType, r: BinaryReader) => boolean): void {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, type] = r.tag();
    if (!field(no, type, r)) r.skip(type, no);
  }
}

/** A repeated scalar field, packed (one length-delimited run) or not (one value per tag). */
function repeated(r: BinaryReader, type: WireType, read: () => number, into: number[]): true {
  if (type === WireType.LengthDelimited) {
    const end = r.uint32() + r.pos;
    if (end > r.len) throw new MLPError("E_FORMAT", "ONNX: a packed field runs past the end of its message (truncated file?)");
    while (r.pos < end) into.push(read());
    if (r.pos !== end) throw new MLPError("E_FORMAT", "ONNX: a packed field does not end on a value boundary");
  } else into.push(read());
  return true;
}

function int64(r: BinaryReader): number {
  const v = Number(r.int64());
  if (!Number.isSafeInteger(v)) throw new MLPError("E_FORMAT", `ONNX: an int64 value ${v} beyond ±2⁵³`);
  return v;
}

function readTensor(bytes: Uint8Array): TensorProto {
  const t: TensorProto = { name: "", dims: [], dataType: 0, floatData: [], doubleData: [], int32Data: [], int64Data: [], raw: undefined, external: false };
  eachField(bytes, (no, type, r) => {
    switch (no) {
      case 1: return repeated(r, type, () => int64(r), t.dims);
      case 2: t.dataType = r.int32(); return true;
      case 4: return repeated(r, type, () => r.float(), t.floatData);
      case 5: return repeated(r, type, () => r.int32(), t.int32Data);
      case 7: return repeated(r, type, () => int64(r), t.int64Data);
      case 8: t.name = r.string(); return true;
      case 9: t.raw = r.bytes(); return true;
      case 10: return repeated(r, type, () => r.double(), t.doubleData);
      case 13: r.skip(type, no); t.external = true; return true;
      case 14: t.external ||= r.int32() === 1; return true;
      default: return false;
    }
  });
  return t;
}

function readAttribute(bytes: Uint8Array): Attribute {
  const a: Attribute = { name: "", floats: [], ints: [] };
  eachField(bytes, (no, type, r) => {
    switch (no) {
      case 1: a.name = r.string(); return true;
      case 2: a.f = r.float(); return true;
      case 3: a.i = int64(r); return true;
      case 4: a.s = new TextDecoder().decode(r.bytes()); return true;
      case 5: a.t = readTensor(r.bytes()); return true;
      case 7: return repeated(r, type, () => r.float(), a.floats);
      case 8: return repeated(r, type, () => int64(r), a.ints);
      default: return false;
    }
  });
  return a;
}

function readNode(bytes: Uint8Array, index: number): NodeProto {
  const n: NodeProto = { inputs: [], outputs: [], name: "", opType: "", domain: "", attributes: new Map(), where: "" };
  eachField(bytes, (no, _type, r) => {
    switch (no) {
      case 1: n.inputs.push(r.string()); return true;
      case 2: n.outputs.push(r.string()); return true;
      case 3: n.name = r.string(); return true;
      case 4: n.opType = r.string(); return true;
      case 5: { const a = readAttribute(r.bytes()); n.attributes.set(a.name, a); return true; }
      case 7: n.domain = r.string(); return true;
      default: return false;
    }
  });
  n.where = `node ${JSON.stringify(n.name || `#${index}`)} (${n.opType || "no op_type"})`;
  return n;
}

function readValueInfo(bytes: Uint8Array): ValueInfo {
  const v: ValueInfo = { name: "", dims: undefined };
  eachField(bytes, (no, _t, r) => {
    if (no === 1) v.name = r.string();
    else if (no === 2) {
      eachField(r.bytes(), (typeNo, _t2, r2) => {
        if (typeNo !== 1) return false;
        eachField(r2.bytes(), (tensorNo, _t3, r3) => {
          if (tensorNo !== 2) return false;
          v.dims = [];
          eachField(r3.bytes(), (shapeNo, _t4, r4) => {
            if (shapeNo !== 1) return false;
            let value: number | undefined;
            eachField(r4.bytes(), (dimNo, _t5, r5) => {
              if (dimNo !== 1) return false;
              value = int64(r5);
              return true;
            });
            v.dims!.push(value);
            return true;
          });
          return true;
        });
        return true;
      });
    } else return false;
    return true;
  });
  return v;
}

function readModel(bytes: Uint8Array): { graph: Graph; opset: number } {
  let graphBytes: Uint8Array | undefined;
  let opset = 0;
  let irVersion = -1;
  eachField(bytes, (no, _t, r) => {
    if (no === 1) irVersion = int64(r);
    else if (no === 7) graphBytes = r.bytes();
    else if (no === 8) {
      let domain = "";
      let version = 0;
      eachField(r.bytes(), (n2, _t2, r2) => {
        if (n2 === 1) domain = r2.string();
        else if (n2 === 2) version = int64(r2);
        else return false;
        return true;
      });
      if (domain === "" || domain === "ai.onnx") opset = version;
    } else return false;
    return true;
  });
  if (graphBytes === undefined || irVersion < 0) throw new MLPError("E_FORMAT", "ONNX: not a ModelProto (no ir_version or no graph)");
  const graph: Graph = { nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  eachField(graphBytes, (no, _t, r) => {
    switch (no) {
      case 1: graph.nodes.push(readNode(r.bytes(), graph.nodes.length)); return true;
      case 5: { const t = readTensor(r.bytes()); graph.initializers.set(t.name, t); return true; }
      case 11: graph.inputs.push(readValueInfo(r.bytes())); return true;
      case 12: graph.outputs.push(readValueInfo(r.bytes())); return true;
      case 15: throw new MLPError("E_UNSUPPORTED", "ONNX: sparse initializers are not supported");
      default: return false;
    }
  });
  return { graph, opset };
}

// ---- tensors ---------------------------------------------------------------------------------------

interface Constant {
  dims: number[];
  values: Float64Array;
}

/** A tensor's values in f64 (exact for every supported type). */
function tensorValues(t: TensorProto, where: string): Constant {
  const what = `${where} tensor ${JSON.stringify(t.name)}`;
  if (t.external) throw new MLPError("E_UNSUPPORTED", `${what}: external data (a separate .data file) is not supported; export with the weights inside the .onnx file`);
  const limit = (t.raw?.length ?? 0) + t.floatData.length + t.doubleData.length + t.int32Data.length + t.int64Data.length;
  const count = elementCount(t.dims, limit, what);
  const out = new Float64Array(count);
  const size = { [DataType.FLOAT]: 4, [DataType.DOUBLE]: 8, [DataType.FLOAT16]: 2, [DataType.BFLOAT16]: 2, [DataType.INT64]: 8, [DataType.INT32]: 4 }[t.dataType];
  if (size === undefined) {
    throw new MLPError("E_UNSUPPORTED", `${what}: data type ${TYPE_NAMES[t.dataType] ?? t.dataType} is not supported (FLOAT, DOUBLE, FLOAT16, BFLOAT16)`, { actual: t.dataType });
  }
  if (t.raw !== undefined) {
    if (t.raw.length !== count * size) throw new MLPError("E_FORMAT", `${what}: raw_data has ${t.raw.length} bytes, dims need ${count * size}`, { expected: count * size, actual: t.raw.length });
    const view = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
    for (let i = 0; i < count; i++) {
      switch (t.dataType) {
        case DataType.FLOAT: out[i] = view.getFloat32(4 * i, true); break;
        case DataType.DOUBLE: out[i] = view.getFloat64(8 * i, true); break;
        case DataType.FLOAT16: out[i] = float16ToNumber(view.getUint16(2 * i, true)); break;
        case DataType.BFLOAT16: out[i] = bfloat16ToNumber(view.getUint16(2 * i, true)); break;
        case DataType.INT64: out[i] = Number(view.getBigInt64(8 * i, true)); break;
        default: out[i] = view.getInt32(4 * i, true);
      }
    }
    return { dims: t.dims, values: out };
  }
  const list =
    t.dataType === DataType.FLOAT ? t.floatData
    : t.dataType === DataType.DOUBLE ? t.doubleData
    : t.dataType === DataType.INT64 ? t.int64Data
    : t.int32Data; // FLOAT16/BFLOAT16 bits and INT32 live in int32_data
  if (list.length !== count) throw new MLPError("E_FORMAT", `${what}: holds ${list.length} values, dims need ${count}`, { expected: count, actual: list.length });
  for (let i = 0; i < count; i++) {
    out[i] = t.dataType === DataType.FLOAT16 ? float16ToNumber(list[i] & 0xffff) : t.dataType === DataType.BFLOAT16 ? bfloat16ToNumber(list[i] & 0xffff) : list[i];
  }
  return { dims: t.dims, values: out };
}

// ---- the graph as a chain --------------------------------------------------------------------------

const PASS_THROUGH = new Set(["Identity", "Dropout"]);
const SIMPLE: Record<string, ImportedActivation> = { Sigmoid: "sigmoid", Tanh: "tanh", Relu: "relu", Softplus: "softplus", Softsign: "softsign", Mish: "mish" };
const SELU_ALPHA = 1.67326319217681884765625;
const SELU_GAMMA = 1.05070102214813232421875;

function buildChain(graph: Graph, opset: number): ChainBuilder {
  const chain = new ChainBuilder("ONNX");
  const constants = new Map<string, TensorProto | Constant>(graph.initializers);
  const constantNodes = new Set<NodeProto>();
  // Constant nodes, and Transpose of a constant (PyTorch without constant folding), are folded first.
  for (let changed = true; changed; ) {
    changed = false;
    for (const node of graph.nodes) {
      if (constantNodes.has(node)) continue;
      if (node.opType === "Constant" && node.outputs.length === 1) {
        const t = node.attributes.get("value")?.t;
        const f = node.attributes.get("value_float")?.f;
        const fs = node.attributes.get("value_floats")?.floats;
        const i = node.attributes.get("value_int")?.i;
        const is = node.attributes.get("value_ints")?.ints;
        const value: Constant | TensorProto | undefined =
          t ?? (f !== undefined ? { dims: [], values: Float64Array.of(f) } : i !== undefined ? { dims: [], values: Float64Array.of(i) }
            : node.attributes.has("value_floats") ? { dims: [fs!.length], values: Float64Array.from(fs!) }
            : node.attributes.has("value_ints") ? { dims: [is!.length], values: Float64Array.from(is!) } : undefined);
        if (value === undefined) throw new MLPError("E_UNSUPPORTED", `${node.where}: a Constant without a numeric value`);
        constants.set(node.outputs[0], value);
        constantNodes.add(node);
        changed = true;
      } else if (node.opType === "Transpose" && constants.has(node.inputs[0]) && node.outputs.length === 1) {
        const c = constant(constants, node.inputs[0], node.where);
        const perm = node.attributes.get("perm")?.ints ?? [1, 0];
        if (c.dims.length !== 2 || perm.length !== 2 || perm[0] !== 1 || perm[1] !== 0) {
          throw new MLPError("E_UNSUPPORTED", `${node.where}: a Transpose of a ${c.dims.length}-D constant with perm [${perm.join(", ")}] (2-D [1, 0] is supported)`);
        }
        constants.set(node.outputs[0], { dims: [c.dims[1], c.dims[0]], values: transpose(c.values, c.dims[0], c.dims[1]) });
        constantNodes.add(node);
        changed = true;
      }
    }
  }

  const inputs = graph.inputs.filter((v) => !constants.has(v.name));
  if (inputs.length !== 1) throw new MLPError("E_UNSUPPORTED", `ONNX: the graph has ${inputs.length} inputs (${inputs.map((v) => v.name).join(", ")}); an MLP has one`);
  if (graph.outputs.length !== 1) throw new MLPError("E_UNSUPPORTED", `ONNX: the graph has ${graph.outputs.length} outputs; an MLP has one`);
  const output = graph.outputs[0].name;
  const dims = inputs[0].dims;
  let rank = dims?.length;
  if (dims !== undefined && dims.length >= 1) {
    const feature = dims.length === 1 ? dims : dims.slice(1);
    if (feature.every((d) => d !== undefined && d > 0)) chain.input(feature.reduce((a, b) => a! * b!, 1)!, `input ${JSON.stringify(inputs[0].name)}`);
  }

  const consumers = new Map<string, NodeProto[]>();
  for (const node of graph.nodes) {
    if (constantNodes.has(node)) continue;
    for (const name of new Set(node.inputs)) {
      if (name === "" || constants.has(name)) continue;
      const list = consumers.get(name) ?? [];
      list.push(node);
      consumers.set(name, list);
    }
  }
  const visited = new Set<NodeProto>();
  const only = (name: string): NodeProto[] => (consumers.get(name) ?? []).filter((n) => !visited.has(n));
  const other = (node: NodeProto, current: string): string => {
    if (node.inputs.length !== 2) throw new MLPError("E_FORMAT", `${node.where}: expects 2 inputs, has ${node.inputs.length}`);
    const i = node.inputs.indexOf(current);
    return node.inputs[1 - i];
  };

  let current = inputs[0].name;
  for (let steps = 0; ; steps++) {
    if (steps > graph.nodes.length) throw new MLPError("E_FORMAT", "ONNX: the graph has a cycle");
    const next = only(current);
    if (next.length === 0) {
      if (current !== output) throw new MLPError("E_UNSUPPORTED", `ONNX: the chain ends at ${JSON.stringify(current)}, which is not the graph output ${JSON.stringify(output)}`);
      break;
    }
    if (current === output) throw new MLPError("E_UNSUPPORTED", `ONNX: the graph output ${JSON.stringify(output)} is also used by ${next.map((n) => n.where).join(", ")}`);
    if (next.length === 2) {
      const gated = gate(next, current, only);
      if (gated !== undefined) {
        for (const n of gated.nodes) visited.add(n);
        chain.activation(gated.mul.where, gated.activation);
        current = gated.mul.outputs[0];
        continue;
      }
    }
    if (next.length !== 1) {
      throw new MLPError("E_UNSUPPORTED", `ONNX: ${JSON.stringify(current)} feeds ${next.map((n) => n.where).join(" and ")}: a branching graph is not an MLP`);
    }
    const node = next[0];
    visited.add(node);
    if (node.domain !== "" && node.domain !== "ai.onnx") throw new MLPError("E_UNSUPPORTED", `${node.where}: operator domain ${JSON.stringify(node.domain)} is not supported`);
    const where = node.where;
    const attr = (name: string) => node.attributes.get(name);
    if (node.outputs.length < 1) throw new MLPError("E_FORMAT", `${where}: has no output`);
    switch (node.opType) {
      case "Gemm": {
        if (node.inputs[0] !== current) throw new MLPError("E_UNSUPPORTED", `${where}: the data is not input A (a constant A times the data is not a dense layer)`);
        if ((attr("transA")?.i ?? 0) !== 0) throw new MLPError("E_UNSUPPORTED", `${where}: transA = 1 on the data is not supported`);
        const alpha = attr("alpha")?.f ?? 1;
        const beta = attr("beta")?.f ?? 1;
        const B = constant(constants, node.inputs[1], where);
        if (B.dims.length !== 2) throw new MLPError("E_UNSUPPORTED", `${where}: B has dims [${B.dims.join(", ")}], not a matrix`);
        const transB = (attr("transB")?.i ?? 0) !== 0;
        const [nOut, nIn] = transB ? B.dims : [B.dims[1], B.dims[0]];
        const W = transB ? Float64Array.from(B.values) : transpose(B.values, B.dims[0], B.dims[1]);
        if (alpha !== 1) for (let k = 0; k < W.length; k++) W[k] *= alpha;
        let bias: Float64Array | null = null;
        if (node.inputs.length > 2 && node.inputs[2] !== "") {
          const C = constant(constants, node.inputs[2], where);
          if (C.values.length !== nOut && C.values.length !== 1) throw new MLPError("E_UNSUPPORTED", `${where}: C has dims [${C.dims.join(", ")}]; a bias of ${nOut} (or 1) numbers is supported`);
          bias = Float64Array.from({ length: nOut }, (_, j) => beta * C.values[C.values.length === 1 ? 0 : j]);
        }
        chain.dense(where, nOut, nIn, W, bias);
        rank = 2;
        break;
      }
      case "MatMul": {
        if (node.inputs[0] !== current) throw new MLPError("E_UNSUPPORTED", `${where}: a constant times the data (the data must be the left factor, x·B)`);
        const B = constant(constants, node.inputs[1], where);
        if (B.dims.length !== 2) throw new MLPError("E_UNSUPPORTED", `${where}: B has dims [${B.dims.join(", ")}], not a matrix`);
        chain.dense(where, B.dims[1], B.dims[0], transpose(B.values, B.dims[0], B.dims[1]), null);
        break;
      }
      case "Add": {
        const c = constant(constants, other(node, current), where);
        chain.addBias(where, c.values);
        break;
      }
      case "Flatten": {
        const axis = attr("axis")?.i ?? 1;
        if (axis !== 1 && !(rank !== undefined && axis === 1 - rank)) throw new MLPError("E_UNSUPPORTED", `${where}: Flatten axis ${axis} (axis 1, keeping the batch, is supported)`);
        rank = 2;
        break;
      }
      case "Reshape": {
        const shape = constant(constants, node.inputs[1], where).values;
        const width = chain.currentWidth;
        const okWidth = (d: number) => d === -1 || d === width || (width === undefined && d > 0);
        const ok = (shape.length === 2 && [-1, 0, 1].includes(shape[0]) && okWidth(shape[1])) || (shape.length === 1 && okWidth(shape[0]));
        if (!ok) throw new MLPError("E_UNSUPPORTED", `${where}: Reshape to [${Array.from(shape).join(", ")}] is not a reshape to a vector of ${width ?? "the current"} width`);
        if (width === undefined && shape[shape.length - 1] > 0) chain.input(shape[shape.length - 1], where);
        rank = shape.length;
        break;
      }
      case "Clip": {
        const bound = (index: number, name: string): number | undefined => {
          const input = node.inputs[index];
          if (input !== undefined && input !== "") {
            const c = constant(constants, input, where);
            if (c.values.length !== 1) throw new MLPError("E_UNSUPPORTED", `${where}: ${name} is not a scalar`);
            return c.values[0];
          }
          return attr(name)?.f;
        };
        const lo = bound(1, "min");
        const hi = bound(2, "max");
        if (lo === 0 && hi === 6) chain.activation(where, "relu6");
        else if (lo === 0 && (hi === undefined || hi === Infinity)) chain.activation(where, "relu");
        else throw new MLPError("E_UNSUPPORTED", `${where}: Clip(${lo}, ${hi}) is not supported (Clip(0, 6) = relu6 and Clip(0, ∞) = relu are)`);
        break;
      }
      case "LeakyRelu":
        chain.activation(where, { name: "leakyRelu", alpha: attr("alpha")?.f ?? 0.01 });
        break;
      case "Elu":
        chain.activation(where, { name: "elu", alpha: attr("alpha")?.f ?? 1 });
        break;
      case "Selu": {
        const alpha = attr("alpha")?.f ?? SELU_ALPHA;
        const gamma = attr("gamma")?.f ?? SELU_GAMMA;
        if (Math.fround(alpha) !== Math.fround(SELU_ALPHA) || Math.fround(gamma) !== Math.fround(SELU_GAMMA)) {
          throw new MLPError("E_UNSUPPORTED", `${where}: Selu with alpha ${alpha}, gamma ${gamma} (only the standard constants are supported)`);
        }
        chain.activation(where, "selu");
        break;
      }
      case "HardSigmoid":
        chain.activation(where, { name: "hardSigmoid", slope: attr("alpha")?.f ?? 0.2, offset: attr("beta")?.f ?? 0.5 });
        break;
      case "Gelu": {
        const approximate = attr("approximate")?.s ?? "none";
        if (approximate !== "none" && approximate !== "tanh") throw new MLPError("E_UNSUPPORTED", `${where}: Gelu approximate=${JSON.stringify(approximate)}`);
        chain.activation(where, approximate === "tanh" ? "geluTanh" : "gelu");
        break;
      }
      case "Softmax":
      case "LogSoftmax": {
        const axis = attr("axis")?.i ?? (opset >= 13 ? -1 : 1);
        const last = axis === -1 || (rank !== undefined && axis === rank - 1);
        if (!last) throw new MLPError("E_UNSUPPORTED", `${where}: ${node.opType} over axis ${axis} (the last axis is supported)`);
        chain.activation(where, node.opType === "Softmax" ? "softmax" : "logSoftmax");
        break;
      }
      default:
        if (PASS_THROUGH.has(node.opType)) {
          if (node.opType === "Dropout" && node.outputs.length > 1 && node.outputs[1] !== "" && ((consumers.get(node.outputs[1])?.length ?? 0) > 0 || node.outputs[1] === output)) {
            throw new MLPError("E_UNSUPPORTED", `${where}: the Dropout mask is used`);
          }
          break;
        }
        if (Object.prototype.hasOwnProperty.call(SIMPLE, node.opType)) {
          chain.activation(where, SIMPLE[node.opType]);
          break;
        }
        throw new MLPError(
          "E_UNSUPPORTED",
          `${where}: op ${node.opType} is not supported${/Conv|Pool/.test(node.opType) ? " (a convolution is not an MLP)" : ""}`,
          { actual: node.opType },
        );
    }
    current = node.outputs[0];
  }
  const stray = graph.nodes.filter((n) => !visited.has(n) && !constantNodes.has(n));
  if (stray.length > 0) {
    throw new MLPError("E_UNSUPPORTED", `ONNX: ${stray.slice(0, 5).map((n) => n.where).join(", ")} not on the chain from input to output (a branching graph)`);
  }
  return chain;
}

/** The swish/mish pattern at `x`: Mul(x, g) with g = Sigmoid(x) or Tanh(Softplus(x)). */
function gate(
  next: NodeProto[],
  x: string,
  only: (name: string) => NodeProto[],
): { nodes: NodeProto[]; mul: NodeProto; activation: ImportedActivation } | undefined {
  const mul = next.find((n) => n.opType === "Mul" && n.inputs.length === 2 && n.inputs.includes(x));
  const first = next.find((n) => n !== mul);
  if (mul === undefined || first === undefined || first.inputs[0] !== x || first.outputs.length !== 1) return undefined;
  const gateInput = mul.inputs[0] === x ? mul.inputs[1] : mul.inputs[0];
  const single = (n: NodeProto) => only(n.outputs[0]).length === 1;
  if (first.opType === "Sigmoid" && first.outputs[0] === gateInput && single(first)) return { nodes: [first, mul], mul, activation: "swish" };
  if (first.opType === "Softplus" && single(first)) {
    const tanh = only(first.outputs[0])[0];
    if (tanh.opType === "Tanh" && tanh.outputs[0] === gateInput && single(tanh)) return { nodes: [first, tanh, mul], mul, activation: "mish" };
  }
  return undefined;
}

function constant(constants: Map<string, TensorProto | Constant>, name: string | undefined, where: string): Constant {
  const c = name === undefined ? undefined : constants.get(name);
  if (c === undefined) {
    throw new MLPError("E_UNSUPPORTED", `${where}: input ${JSON.stringify(name)} is not an initializer or constant (weights computed from the data are not a dense layer)`);
  }
  if ("values" in c) return c;
  const decoded = tensorValues(c, where);
  constants.set(name!, decoded);
  return decoded;
}

