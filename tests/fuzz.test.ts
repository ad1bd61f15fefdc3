// A property-based test of model objects: random valid specs, each with one or two of their parts
// (the spec, sizes and each width, precision, activations, layers and each layer, weights flat or
// nested, each row and value, bias and each value) replaced by another JavaScript value — BigInt,
// Symbol, functions, strings, boxed numbers, NaN, holes, array-likes with huge, negative or fractional
// lengths, typed arrays (BigInt ones and DataView too), getters that throw, proxies that throw or
// answer differently on every read, "__proto__" keys, fields only inherited from a prototype.
// The properties:
//   1. createMLP either throws an MLPError (a known code, a message) or, when the replacement is a
//      valid one (a finite number, a transparent proxy, a typed array of the same values…), builds
//      exactly the network the spec describes (its toJSON equals the expected model);
//   2. a failed createMLP keeps no memory; a failed setLayer leaves the network's toJSON unchanged;
//   3. every case finishes quickly (no length is trusted before it is checked);
//   4. createMLPPool, given the same specs, rejects with an MLPError or builds exactly the model.
// Seeded: a failure prints the seed and the path, so it can be replayed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MLPError, createEngine, createMLPPool, type MLP, type MLPPool, type ModelJSON } from "../src/index.js";
import { rng } from "./helpers.js";

const engine = await createEngine();
const NAMES = ["identity", "sigmoid", "tanh", "relu", "leakyRelu", "softplus"];
const CODES = new Set([
  "E_SPEC",
  "E_SIZES",
  "E_PRECISION",
  "E_ACTIVATION",
  "E_LAYERS",
  "E_SHAPE",
  "E_NONFINITE",
  "E_TOO_LARGE",
  "E_LAYER_INDEX",
]);
const CASE_MS = 250; // a generous bound for one case on a loaded machine; typical cases take < 1 ms

type Random = () => number;
/** A replacement value and whether the model stays valid (describes the same network) with it. */
interface Variant {
  label: string;
  value: unknown;
  valid: boolean;
  /** For a valid replacement that changes the network: the plain value it stands for. */
  plain?: unknown;
}
type Kind = "spec" | "sizes" | "size" | "precision" | "activations" | "layers" | "layer" | "numbers" | "number" | "rows";

const pick = <T>(random: Random, list: readonly T[]): T => list[Math.floor(random() * list.length)];

function throwing(label: string): () => never {
  return () => {
    throw new Error(`fuzz: ${label}`);
  };
}

/** Values that are wrong wherever a model expects something; shared by every kind. */
function junk(): Variant[] {
  return [
    { label: "BigInt", value: 3n, valid: false },
    { label: "Symbol", value: Symbol("fuzz"), valid: false },
    { label: "function", value: () => 1, valid: false },
    { label: "class", value: class {}, valid: false },
    { label: "string", value: "3", valid: false },
    { label: "empty string", value: "", valid: false },
    { label: "true", value: true, valid: false },
    { label: "null", value: null, valid: false },
    { label: "NaN", value: NaN, valid: false },
    { label: "boxed number", value: Object(3), valid: false },
    { label: "Date", value: new Date(0), valid: false },
    { label: "Map", value: new Map([[0, 1]]), valid: false },
    { label: "empty object", value: {}, valid: false },
    { label: "proxy throwing on every trap", value: trapAll(), valid: false },
    { label: "{ length: 1e12 }", value: { length: 1e12 }, valid: false },
    { label: "{ length: -1 }", value: { length: -1 }, valid: false },
    { label: "{ length: 2.5 }", value: { length: 2.5, 0: 1, 1: 1, 2: 1 }, valid: false },
    { label: "{ length: 2 ** 32 }", value: { length: 2 ** 32 }, valid: false },
    { label: "{ length: NaN }", value: { length: NaN }, valid: false },
    { label: "{ length: Infinity }", value: { length: Infinity }, valid: false },
    { label: "{ length: '2' }", value: { length: "2", 0: 1, 1: 1 }, valid: false },
    { label: "{ length: 2n }", value: { length: 2n }, valid: false },
    { label: "length getter that throws", value: Object.defineProperty({}, "length", { get: throwing("length") }), valid: false },
    { label: "DataView", value: new DataView(new ArrayBuffer(64)), valid: false },
    { label: "ArrayBuffer", value: new ArrayBuffer(64), valid: false },
  ];
}

function trapAll(): object {
  const fail = throwing("proxy trap");
  return new Proxy({}, { get: fail, has: fail, getOwnPropertyDescriptor: fail, ownKeys: fail, getPrototypeOf: fail });
}

/** An array-like with the same elements whose element `at` is a getter that throws. */
function throwingAt(list: readonly unknown[], at: number): unknown[] {
  const copy = list.slice();
  Object.defineProperty(copy, at, { get: throwing(`element ${at}`), enumerable: true });
  return copy;
}

/** A proxy that answers the real value on the first read of each key, and `later` afterwards. */
function lying<T extends object>(target: T, later: unknown): T {
  const seen = new Set<PropertyKey>();
  return new Proxy(target, {
    get(t, key, receiver) {
      if (key === "length" || typeof key === "symbol") return Reflect.get(t, key, receiver);
      if (seen.has(key)) return later;
      seen.add(key);
      return Reflect.get(t, key, receiver);
    },
  });
}

/** Replacements for the part `original` of kind `kind` (the valid ones first). */
/** What a replacement's validity depends on beyond the part: L − 1, and whether [part] is valid too. */
interface Context {
  f32: boolean;
  layers: number;
  /** Flat weights of a layer with one row: nesting them once more gives that one row, still valid. */
  nestable: boolean;
}

function variants(kind: Kind, original: unknown, random: Random, { f32, layers: L1, nestable }: Context): Variant[] {
  const list: Variant[] = [];
  // Activations keep to the values the current activation checks handle (see below).
  const isList = Array.isArray(original) && kind !== "activations";
  if (isList) {
    const a = original as unknown[];
    list.push(
      { label: "transparent proxy", value: new Proxy(a.slice(), {}), valid: true },
      { label: "frozen copy", value: Object.freeze(a.slice()), valid: true },
      { label: "array-like object", value: Object.assign({ length: a.length }, a.slice()), valid: true },
      { label: "lying proxy (NaN after the first read)", value: lying(a.slice(), NaN), valid: true },
      { label: "lying proxy (a string after the first read)", value: lying(a.slice(), "x"), valid: true },
      { label: "getter that throws at the last element", value: throwingAt(a, a.length - 1), valid: false },
      { label: "hole at the first element", value: holeAt(a, 0), valid: false },
      { label: "one element fewer", value: a.slice(1), valid: false },
      { label: "one element more", value: [...a, a[0]], valid: false },
      { label: "empty", value: [], valid: false },
      { label: "nested once more", value: [a.slice()], valid: nestable },
    );
  }
  if (kind === "numbers" || kind === "rows") {
    const flat = (original as unknown[]).flat() as number[];
    if (kind === "numbers") {
      list.push({ label: "Float64Array", value: Float64Array.from(flat), valid: true });
      if (f32) list.push({ label: "Float32Array", value: Float32Array.from(flat), valid: true });
      list.push(
        { label: "BigInt64Array", value: new BigInt64Array(flat.length), valid: false },
        { label: "Float64Array, one too short", value: new Float64Array(Math.max(0, flat.length - 1)), valid: false },
        { label: "Float64Array with NaN", value: Float64Array.from(flat, (v, i) => (i === flat.length - 1 ? NaN : v)), valid: false },
        { label: "Int8Array of the wrong length", value: new Int8Array(flat.length + 1), valid: false },
      );
    }
  }
  if (kind === "number") {
    const v = random() * 2 - 1;
    list.push(
      { label: "another finite number", value: v, valid: true, plain: v },
      { label: "-0", value: -0, valid: true, plain: -0 },
      { label: "Infinity", value: Infinity, valid: false },
      { label: "-Infinity", value: -Infinity, valid: false },
      { label: "1e39", value: 1e39, valid: !f32, plain: 1e39 },
      { label: "Number.MAX_VALUE", value: Number.MAX_VALUE, valid: !f32, plain: Number.MAX_VALUE },
      { label: "undefined", value: undefined, valid: false },
      { label: "array [1]", value: [1], valid: false },
    );
  }
  if (kind === "size") {
    list.push(
      { label: "0", value: 0, valid: false },
      { label: "-1", value: -1, valid: false },
      { label: "2.5", value: 2.5, valid: false },
      { label: "1e12", value: 1e12, valid: false },
      { label: "another width", value: (original as number) + 1, valid: false },
      { label: "Infinity", value: Infinity, valid: false },
      { label: "undefined", value: undefined, valid: false },
    );
  }
  if (kind === "precision") {
    list.push(
      { label: "f32", value: "f32", valid: true, plain: "f32" },
      { label: "f64", value: "f64", valid: true, plain: "f64" },
      { label: "f16", value: "f16", valid: false },
      { label: "F32", value: "F32", valid: false },
      { label: "32", value: 32, valid: false },
      { label: "boxed string", value: Object("f32"), valid: false },
    );
  }
  if (kind === "activations") {
    const name = pick(random, NAMES);
    const holed = new Array(L1).fill(name);
    delete holed[0];
    list.push(
      { label: `"${name}"`, value: name, valid: true, plain: name },
      { label: "array of names", value: new Array(L1).fill(name), valid: true, plain: new Array(L1).fill(name) },
      { label: "alias", value: "linear", valid: true, plain: "identity" },
      { label: "object with a parameter", value: { name: "leakyRelu", alpha: 0.3 }, valid: true, plain: { name: "leakyRelu", alpha: 0.3 } },
      { label: "unknown name", value: "gelux", valid: false },
      { label: "array with an unknown name", value: [...new Array(L1 - 1).fill(name), "swishh"], valid: false },
      { label: "array with a BigInt", value: [...new Array(L1 - 1).fill(name), 1n], valid: false },
      { label: "array with a Symbol", value: [...new Array(L1 - 1).fill(name), Symbol("a")], valid: false },
      { label: "array with a hole", value: holed, valid: false },
      { label: "array with undefined", value: [...new Array(L1 - 1).fill(name), undefined], valid: false },
      { label: "parameter out of range", value: { name: "elu", alpha: Infinity }, valid: false },
      { label: "parameter as a BigInt", value: { name: "elu", alpha: 1n }, valid: false },
      { label: "one name too many", value: new Array(L1 + 1).fill(name), valid: false },
      { label: "getter that throws in the array", value: throwingAt(new Array(L1).fill(name), 0), valid: false },
    );
  }
  if (kind === "spec" || kind === "layer") {
    const o = original as Record<string, unknown>;
    const keys = Object.keys(o);
    const key = pick(random, keys);
    const rest = Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));
    // Without precision or activations a spec means the defaults; without anything else it is invalid.
    const optional = kind === "spec" && (key === "precision" || key === "activations");
    const defaults = optional ? { ...rest, [key]: key === "precision" ? "f32" : "sigmoid" } : undefined;
    list.push(
      { label: "frozen copy", value: Object.freeze({ ...o }), valid: true },
      { label: "null-prototype copy", value: Object.assign(Object.create(null), o), valid: true },
      { label: "copy with an unknown extra key", value: { ...o, comment: "trained on MNIST" }, valid: true },
      { label: "transparent proxy", value: new Proxy({ ...o }, {}), valid: true },
      { label: `getter for ${key} (read once)`, value: Object.defineProperty({ ...rest }, key, { get: () => o[key], enumerable: true }), valid: true },
      { label: `lying proxy (${key} changes after the first read)`, value: lying({ ...o }, key === "precision" ? "f16" : null), valid: true },
      { label: `${key} missing`, value: rest, valid: optional, plain: defaults },
      { label: `${key} only inherited`, value: Object.assign(Object.create({ [key]: o[key] }), rest), valid: optional, plain: defaults },
      { label: `getter for ${key} that throws`, value: Object.defineProperty({ ...rest }, key, { get: throwing(key), enumerable: true }), valid: false },
      { label: '"__proto__" key (JSON.parse)', value: Object.assign(JSON.parse('{"__proto__": {"precision": "f64"}}'), o), valid: false },
      { label: "array", value: [o], valid: false },
    );
    if (kind === "layer") list.push({ label: "{ kernel, bias }", value: { kernel: o.weights, bias: o.bias }, valid: false });
  }
  return [...list, ...junk()];
}

function holeAt(list: readonly unknown[], at: number): unknown[] {
  const copy = list.slice();
  delete copy[at];
  return copy;
}

/** A random valid model as plain data: odd widths, flat or nested weights per layer. */
function randomModel(random: Random): { sizes: number[]; precision: "f32" | "f64"; activations: string | string[]; layers: { weights: number[] | number[][]; bias: number[] }[] } {
  const L = 2 + Math.floor(random() * 3);
  const sizes = Array.from({ length: L }, () => pick(random, [1, 3, 4, 5, 7]));
  const precision = random() < 0.5 ? "f32" : "f64";
  const round = precision === "f32" ? Math.fround : (v: number) => v;
  const activations = random() < 0.5 ? pick(random, NAMES) : Array.from({ length: L - 1 }, () => pick(random, NAMES));
  const layers = [];
  for (let l = 1; l < L; l++) {
    const rows = Array.from({ length: sizes[l] }, () => Array.from({ length: sizes[l - 1] }, () => round(random() * 2 - 1)));
    layers.push({ weights: random() < 0.5 ? rows : rows.flat(), bias: Array.from({ length: sizes[l] }, () => round(random() * 2 - 1)) });
  }
  return { sizes, precision, activations, layers };
}

type Model = ReturnType<typeof randomModel>;
type Path = (string | number)[];

/** Every part of a model with its kind: the paths a replacement can go to. */
function parts(model: Model): { path: Path; kind: Kind }[] {
  const out: { path: Path; kind: Kind }[] = [{ path: [], kind: "spec" }, { path: ["sizes"], kind: "sizes" }, { path: ["precision"], kind: "precision" }];
  out.push({ path: ["activations"], kind: "activations" }, { path: ["layers"], kind: "layers" });
  model.sizes.forEach((_, i) => out.push({ path: ["sizes", i], kind: "size" }));
  model.layers.forEach((layer, i) => {
    out.push({ path: ["layers", i], kind: "layer" });
    const nested = Array.isArray(layer.weights[0]);
    out.push({ path: ["layers", i, "weights"], kind: nested ? "rows" : "numbers" }, { path: ["layers", i, "bias"], kind: "numbers" });
    if (nested) {
      (layer.weights as number[][]).forEach((row, r) => {
        out.push({ path: ["layers", i, "weights", r], kind: "numbers" });
        row.forEach((_, c) => out.push({ path: ["layers", i, "weights", r, c], kind: "number" }));
      });
    } else {
      layer.weights.forEach((_, k) => out.push({ path: ["layers", i, "weights", k], kind: "number" }));
    }
    layer.bias.forEach((_, k) => out.push({ path: ["layers", i, "bias", k], kind: "number" }));
  });
  return out;
}

function context(model: Model, path: Path, kind: Kind): Context {
  const nestable = kind === "numbers" && path.length === 3 && path[2] === "weights" && model.sizes[(path[1] as number) + 1] === 1;
  return { f32: model.precision === "f32", layers: model.sizes.length - 1, nestable };
}

function getAt(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root);
}

/** A deep copy of plain model data with the part at path replaced by value (path [] replaces all). */
function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [key, ...rest] = path;
  const node = root as Record<string | number, unknown>;
  const copy = (Array.isArray(node) ? node.slice() : { ...node }) as Record<string | number, unknown>;
  copy[key] = setAt(node[key], rest, value);
  return copy;
}

/** What toJSON must give for a valid plain model. */
function expectedJSON(model: Model): ModelJSON {
  const round = model.precision === "f32" ? Math.fround : (v: number) => v;
  return {
    sizes: model.sizes.slice(),
    activations: (Array.isArray(model.activations) ? model.activations.slice() : model.activations) as ModelJSON["activations"],
    precision: model.precision,
    layers: model.layers.map((layer) => ({ weights: (layer.weights as unknown[]).flat().map((v) => round(v as number)), bias: layer.bias.map(round) })),
  };
}

function sameModel(actual: ModelJSON, expected: ModelJSON, where: string): void {
  // Object.is: -0 and +0 differ, so a replaced -0 must arrive as -0.
  const a = JSON.stringify(actual, (_, v) => (Object.is(v, -0) ? "-0" : v));
  const e = JSON.stringify(expected, (_, v) => (Object.is(v, -0) ? "-0" : v));
  assert.is(a, e, `${where}: the network differs from the model`);
}

function checkError(error: unknown, where: string): void {
  if (!(error instanceof MLPError)) assert.unreachable(`${where}: threw ${String((error as Error)?.name)}: ${String((error as Error)?.message)}, not an MLPError`);
  const e = error as MLPError;
  assert.ok(CODES.has(e.code), `${where}: unexpected code ${e.code}`);
  assert.ok(typeof e.message === "string" && e.message.length > 10, `${where}: no message`);
  assert.not.match(e.message, /\[object Object\]/, `${where}: message shows [object Object]: ${e.message}`);
}

/** One case: a random model with one or two replacements. */
/** A random model with one or two of its parts replaced: the input, whether it is valid, the model it means. */
function mutatedCase(seed: number): { model: Model; input: unknown; valid: boolean; where: string } {
  const random = rng(seed);
  let model = randomModel(random);
  let input: unknown = model;
  let valid = true;
  const labels: string[] = [];
  const replaced: Path[] = [];
  const replacements = random() < 0.7 ? 1 : 2;
  for (let r = 0; r < replacements; r++) {
    const all = parts(model);
    const { path, kind } = pick(random, all);
    // A second replacement goes only to a part that neither contains nor lies inside the first.
    const within = (a: Path, b: Path) => a.length <= b.length && a.every((key, i) => key === b[i]);
    if (replaced.some((p) => within(p, path) || within(path, p))) continue;
    replaced.push(path);
    const original = getAt(model, path);
    const variant = pick(random, variants(kind, original, random, context(model, path, kind)));
    labels.push(`${path.join(".")}: ${variant.label}`);
    valid &&= variant.valid;
    if (variant.plain !== undefined) model = setAt(model, path, variant.plain) as Model;
    input = setAt(input, path, variant.value);
  }
  return { model, input, valid, where: `seed ${seed} (${labels.join("; ")})` };
}

/** One case: createMLP on a mutated model. */
function createCase(seed: number): void {
  const { model, input, valid, where } = mutatedCase(seed);
  const inUse = engine.arena.inUse;
  const start = performance.now();
  let net: MLP | undefined;
  try {
    net = engine.createMLP(input as never);
  } catch (error) {
    checkError(error, where);
    if (valid) assert.unreachable(`${where}: a valid model was refused: ${(error as Error).message}`);
    assert.is(engine.arena.inUse, inUse, `${where}: a failed createMLP kept memory`);
  }
  const ms = performance.now() - start;
  assert.ok(ms < CASE_MS, `${where}: took ${ms.toFixed(0)} ms`);
  if (net !== undefined) {
    if (!valid) assert.unreachable(`${where}: accepted, but the model is not valid; built ${JSON.stringify(net.toJSON()).slice(0, 200)}`);
    sameModel(net.toJSON(), expectedJSON(model), where);
    net.dispose();
  }
}

test("createMLP: every JS value in every part of a model gives an MLPError or exactly the model (3000 seeded cases)", () => {
  const start = performance.now();
  for (let seed = 1; seed <= 3000; seed++) createCase(seed);
  const ms = performance.now() - start;
  assert.ok(ms < 30_000, `3000 cases took ${ms.toFixed(0)} ms`);
});

test("setLayer: every JS value for weights or bias gives an MLPError and leaves the network unchanged, or sets exactly it", () => {
  for (let seed = 1; seed <= 1500; seed++) {
    const random = rng(10_000 + seed);
    const model = randomModel(random);
    const net = engine.createMLP(model as never);
    const before = net.toJSON();
    const i = Math.floor(random() * model.layers.length);
    const l = i + 2;
    const fresh = randomModel(rng(20_000 + seed));
    // New parameters of the right shape, then one part of them replaced.
    const rows = model.sizes[i + 1];
    const cols = model.sizes[i];
    const round = model.precision === "f32" ? Math.fround : (v: number) => v;
    const nested = random() < 0.5;
    const flat = Array.from({ length: rows * cols }, (_, k) => round(((fresh.sizes[0] * (k + 1)) % 7) / 7 - 0.5));
    let target = { weights: nested ? Array.from({ length: rows }, (_, r) => flat.slice(r * cols, (r + 1) * cols)) : flat, bias: Array.from({ length: rows }, (_, r) => round(r / 10)) } as Model["layers"][number];
    const layerModel = { ...model, layers: [target] } as Model;
    const candidates = parts(layerModel).filter(({ path }) => path[0] === "layers" && path.length > 2);
    const { path, kind } = pick(random, candidates);
    const variant = pick(random, variants(kind, getAt(layerModel, path), random, { ...context(model, path, kind), nestable: kind === "numbers" && path.length === 3 && path[2] === "weights" && rows === 1 }));
    const where = `seed ${10_000 + seed} setLayer(${l}) ${path.slice(2).join(".")}: ${variant.label}`;
    const input = setAt(target, path.slice(2), variant.value) as { weights: unknown; bias: unknown };
    if (variant.plain !== undefined) target = setAt(target, path.slice(2), variant.plain) as typeof target;
    const start = performance.now();
    let ok = false;
    try {
      net.setLayer(l, input.weights as never, input.bias as never);
      ok = true;
    } catch (error) {
      checkError(error, where);
      if (variant.valid) assert.unreachable(`${where}: valid parameters were refused: ${(error as Error).message}`);
      sameModel(net.toJSON(), before, `${where}: after the failed call`);
    }
    const ms = performance.now() - start;
    assert.ok(ms < CASE_MS, `${where}: took ${ms.toFixed(0)} ms`);
    if (ok) {
      if (!variant.valid) assert.unreachable(`${where}: accepted, but the parameters are not valid`);
      const expected = expectedJSON({ ...model, layers: model.layers.map((layer, k) => (k === i ? target : layer)) });
      sameModel(net.toJSON(), expected, where);
    }
    net.dispose();
  }
});

test("createMLPPool: the same values in a pool's spec give a rejected MLPError or exactly the model", async () => {
  for (let seed = 1; seed <= 300; seed++) {
    const { model, input, valid, where } = mutatedCase(50_000 + seed);
    let pool: MLPPool | undefined;
    try {
      pool = await createMLPPool({ spec: input as never, threads: 1 });
    } catch (error) {
      checkError(error, `pool ${where}`);
      if (valid) assert.unreachable(`pool ${where}: a valid model was refused: ${(error as Error).message}`);
    }
    if (pool !== undefined) {
      if (!valid) assert.unreachable(`pool ${where}: accepted, but the model is not valid`);
      sameModel(pool.network.toJSON(), expectedJSON(model), `pool ${where}`);
      await pool.dispose();
    }
  }
});

test.run();
