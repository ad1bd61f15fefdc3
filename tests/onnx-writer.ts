/**
 * Writes ONNX models for the tests with @bufbuild/protobuf's BinaryWriter, from the field numbers of
 * onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto).
 * The files are proved real by running them in onnxruntime-web. Independent of src/import/onnx.ts.
 */
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

export const FLOAT = 1;
export const INT64 = 7;
export const FLOAT16 = 10;
export const DOUBLE = 11;

export interface TensorSpec {
  name: string;
  dims: number[];
  dataType: number;
  /** Values; for FLOAT16 the bit patterns. */
  values: number[];
  /** raw_data (default) or the typed repeated field (float_data, double_data, int64_data, int32_data for FLOAT16). */
  storage?: "raw" | "typed";
}

export type AttrValue = { f: number } | { i: number } | { s: string } | { ints: number[] } | { floats: number[] } | { t: TensorSpec };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, AttrValue>;
}

export interface ModelSpec {
  nodes: NodeSpec[];
  initializers: TensorSpec[];
  input: { name: string; dims: (number | string)[]; elemType: number };
  output: { name: string; dims: (number | string)[]; elemType: number };
  opset?: number;
  irVersion?: number;
  /** Also list the initializers among the graph inputs (as IR < 4 exporters did). */
  initializersAsInputs?: boolean;
}

function message(write: (w: BinaryWriter) => void): Uint8Array {
  const w = new BinaryWriter();
  write(w);
  return w.finish();
}

function tensor(t: TensorSpec): Uint8Array {
  return message((w) => {
    if (t.dims.length > 0) {
      w.tag(1, WireType.LengthDelimited).fork();
      for (const d of t.dims) w.int64(d);
      w.join();
    }
    w.tag(2, WireType.Varint).int32(t.dataType);
    w.tag(8, WireType.LengthDelimited).string(t.name);
    if ((t.storage ?? "raw") === "raw") {
      const size = { [FLOAT]: 4, [DOUBLE]: 8, [FLOAT16]: 2, [INT64]: 8 }[t.dataType]!;
      const bytes = new Uint8Array(t.values.length * size);
      const view = new DataView(bytes.buffer);
      t.values.forEach((v, i) => {
        if (t.dataType === FLOAT) view.setFloat32(4 * i, v, true);
        else if (t.dataType === DOUBLE) view.setFloat64(8 * i, v, true);
        else if (t.dataType === FLOAT16) view.setUint16(2 * i, v, true);
        else view.setBigInt64(8 * i, BigInt(v), true);
      });
      w.tag(9, WireType.LengthDelimited).bytes(bytes);
    } else {
      const field = { [FLOAT]: 4, [DOUBLE]: 10, [INT64]: 7 }[t.dataType] ?? 5; // FLOAT16 bits, INT32, BOOL… in int32_data
      w.tag(field, WireType.LengthDelimited).fork();
      for (const v of t.values) {
        if (t.dataType === FLOAT) w.float(v);
        else if (t.dataType === DOUBLE) w.double(v);
        else if (t.dataType === INT64) w.int64(v);
        else w.int32(v);
      }
      w.join();
    }
  });
}

function attribute(name: string, value: AttrValue): Uint8Array {
  return message((w) => {
    w.tag(1, WireType.LengthDelimited).string(name);
    if ("f" in value) w.tag(2, WireType.Bit32).float(value.f).tag(20, WireType.Varint).int32(1);
    else if ("i" in value) w.tag(3, WireType.Varint).int64(value.i).tag(20, WireType.Varint).int32(2);
    else if ("s" in value) w.tag(4, WireType.LengthDelimited).bytes(new TextEncoder().encode(value.s)).tag(20, WireType.Varint).int32(3);
    else if ("t" in value) w.tag(5, WireType.LengthDelimited).bytes(tensor(value.t)).tag(20, WireType.Varint).int32(4);
    else if ("floats" in value) {
      for (const f of value.floats) w.tag(7, WireType.Bit32).float(f);
      w.tag(20, WireType.Varint).int32(6);
    } else {
      for (const i of value.ints) w.tag(8, WireType.Varint).int64(i);
      w.tag(20, WireType.Varint).int32(7);
    }
  });
}

function node(n: NodeSpec): Uint8Array {
  return message((w) => {
    for (const i of n.inputs) w.tag(1, WireType.LengthDelimited).string(i);
    for (const o of n.outputs) w.tag(2, WireType.LengthDelimited).string(o);
    if (n.name !== undefined) w.tag(3, WireType.LengthDelimited).string(n.name);
    w.tag(4, WireType.LengthDelimited).string(n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) w.tag(5, WireType.LengthDelimited).bytes(attribute(k, v));
    if (n.domain !== undefined) w.tag(7, WireType.LengthDelimited).string(n.domain);
  });
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): Uint8Array {
  const shape = message((w) => {
    for (const d of dims) {
      const dim = message((dw) => (typeof d === "number" ? dw.tag(1, WireType.Varint).int64(d) : dw.tag(2, WireType.LengthDelimited).string(d)));
      w.tag(1, WireType.LengthDelimited).bytes(dim);
    }
  });
  const tensorType = message((w) => w.tag(1, WireType.Varint).int32(elemType).tag(2, WireType.LengthDelimited).bytes(shape));
  const type = message((w) => w.tag(1, WireType.LengthDelimited).bytes(tensorType));
  return message((w) => w.tag(1, WireType.LengthDelimited).string(name).tag(2, WireType.LengthDelimited).bytes(type));
}

/** The bytes of a ModelProto. */
export function onnxModel(spec: ModelSpec): Uint8Array {
  const graph = message((w) => {
    for (const n of spec.nodes) w.tag(1, WireType.LengthDelimited).bytes(node(n));
    w.tag(2, WireType.LengthDelimited).string("test_graph");
    for (const t of spec.initializers) w.tag(5, WireType.LengthDelimited).bytes(tensor(t));
    w.tag(11, WireType.LengthDelimited).bytes(valueInfo(spec.input.name, spec.input.elemType, spec.input.dims));
    if (spec.initializersAsInputs) for (const t of spec.initializers) w.tag(11, WireType.LengthDelimited).bytes(valueInfo(t.name, t.dataType, t.dims));
    w.tag(12, WireType.LengthDelimited).bytes(valueInfo(spec.output.name, spec.output.elemType, spec.output.dims));
  });
  return message((w) => {
    w.tag(1, WireType.Varint).int64(spec.irVersion ?? 8);
    w.tag(2, WireType.LengthDelimited).string("mlpgrad-tests");
    w.tag(7, WireType.LengthDelimited).bytes(graph);
    const opset = message((o) => o.tag(1, WireType.LengthDelimited).string("").tag(2, WireType.Varint).int64(spec.opset ?? 17));
    w.tag(8, WireType.LengthDelimited).bytes(opset);
  });
}
