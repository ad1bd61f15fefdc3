// Type-level tests of the public API, checked by `tsc -p tests/types` (tests/types.test.ts runs it).
// Nothing here runs: each line either must type-check, or carries `@ts-expect-error` and must fail
// (tsc reports an `@ts-expect-error` that is not needed, so a type that got looser fails the suite too).
import {
  createEngine,
  createMLP,
  createMLPPool,
  grad,
  type Engine,
  type MLP,
  type MLPPool,
  type MLPSpec,
  type MLPSpecLike,
  type Precision,
  type Vector,
} from "../../src/index.js";
import model from "./model.json" with { type: "json" };

/** Compiles only when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<A, B>(_proof: Equal<A, B>): void {}

declare const engine: Engine;
const layers = [{ weights: [1, 2], bias: [0] }];
const x = [0.5, -0.5];

// f64 networks return Float64Array, f32 ones (and the default) Float32Array, without `out`.
const net64 = createMLP({ sizes: [2, 1], layers, precision: "f64" });
expectType<typeof net64, MLP<"f64">>(true);
expectType<ReturnType<typeof net64.gradient>, Float64Array>(true);
const g64 = net64.gradient(x);
expectType<typeof g64, Float64Array>(true);
const sum: number = g64.reduce((a, b) => a + b, 0);
expectType<typeof net64.precision, "f64">(true);
// @ts-expect-error an f64 network's gradient is not a Float32Array
const wrong32: Float32Array = net64.gradient(x);

const net32 = createMLP({ sizes: [2, 1], layers, precision: "f32" });
expectType<typeof net32, MLP<"f32">>(true);
const byDefault = createMLP({ sizes: [2, 1], layers });
expectType<typeof byDefault, MLP<"f32">>(true);
expectType<ReturnType<typeof byDefault.forward>, Float32Array>(true);
// @ts-expect-error a default (f32) network's gradient is not a Float64Array
const wrong64: Float64Array = byDefault.gradient(x);

// Every result of every method follows the precision.
expectType<typeof net64.valueAndGradient extends (x: never) => { gradient: Float64Array } ? true : false, true>(true);
expectType<ReturnType<typeof net64.valueAndGradient>["gradient"], Float64Array>(true);
expectType<ReturnType<typeof net64.gradientBatch>, Float64Array>(true);
expectType<ReturnType<typeof net64.valueAndGradientBatch>["values"], Float64Array>(true);
expectType<ReturnType<typeof net64.forwardBatch>, Float64Array>(true);
expectType<ReturnType<typeof net64.jacobian>, Float64Array>(true);
expectType<ReturnType<typeof net64.vjp>, Float64Array>(true);
expectType<ReturnType<typeof net64.jvp>, Float64Array>(true);
expectType<ReturnType<typeof net64.hvp>, Float64Array>(true);
expectType<ReturnType<typeof net64.getLayer>["weights"], Float64Array>(true);
expectType<ReturnType<typeof net64.parameterGradient>["layers"][number]["bias"], Float64Array>(true);
expectType<ReturnType<typeof net32.parameterGradient>["layers"][number]["weights"], Float32Array>(true);
expectType<ReturnType<typeof net64.toJSON>["precision"], "f64">(true);

// `out` of the right element type is returned as itself; of the wrong one, refused.
const out64 = net64.gradient(x, new Float64Array(2));
expectType<typeof out64, Float64Array<ArrayBuffer>>(true);
// @ts-expect-error an f64 network does not write into a Float32Array
net64.gradient(x, new Float32Array(2));
// @ts-expect-error an f32 network does not write into a Float64Array
net32.forwardBatch(x, new Float64Array(1));

// A precision known only at run time gives the union; an unknown precision literal is refused.
declare const precision: Precision;
const either = createMLP({ sizes: [2, 1], layers, precision });
expectType<typeof either, MLP<Precision>>(true);
expectType<ReturnType<typeof either.gradient>, Vector>(true);
declare const spec: MLPSpec;
expectType<ReturnType<typeof createMLP>, MLP<"f32">>(false); // overloaded: the last (widest) signature
const fromSpec = createMLP(spec);
expectType<typeof fromSpec, MLP<Precision>>(true);
// @ts-expect-error "f16" is not a precision
createMLP({ sizes: [2, 1], layers, precision: "f16" as const });
// @ts-expect-error an unknown activation name written in the code is caught
createMLP({ sizes: [2, 1], layers, activations: "sigmoidd" as const });

// engine.createMLP, grad and createMLPPool follow the precision too.
const onEngine = engine.createMLP({ sizes: [2, 1], layers, precision: "f64" });
expectType<typeof onEngine, MLP<"f64">>(true);
expectType<ReturnType<typeof onEngine.gradient>, Float64Array>(true);
async function more(): Promise<void> {
  const df = await grad({ sizes: [2, 1], layers, precision: "f64" });
  expectType<ReturnType<typeof df>, Float64Array>(true);
  expectType<typeof df.network, MLP<"f64">>(true);
  const df32 = await engine.grad({ sizes: [2, 1], layers });
  expectType<ReturnType<typeof df32>, Float32Array>(true);
  const pool = await createMLPPool({ spec: { sizes: [2, 1], layers, precision: "f64" }, threads: 2 });
  expectType<typeof pool, MLPPool<"f64">>(true);
  const batch = await pool.gradientBatch([1, 2, 3, 4]);
  expectType<typeof batch, Float64Array>(true);
  expectType<Awaited<ReturnType<typeof pool.valueAndGradientBatch>>["values"], Float64Array>(true);
  const pool32 = await createMLPPool({ spec: { sizes: [2, 1], layers } });
  expectType<Awaited<ReturnType<typeof pool32.forwardBatch>>, Float32Array>(true);
  // @ts-expect-error an f64 pool does not write into a Float32Array
  await pool.gradientBatch([1, 2], new Float32Array(2));
  expectType<Awaited<ReturnType<typeof pool.jacobian>>, Float64Array>(true);
  expectType<Awaited<ReturnType<typeof pool32.jacobian>>, Float32Array>(true);
  expectType<Awaited<ReturnType<typeof pool32.gradientOf>>, Float32Array>(true);
  expectType<typeof pool32.jacobianThreads, number>(true);
  // @ts-expect-error an f64 pool's Jacobian does not go into a Float32Array
  await pool.jacobian([1, 2], new Float32Array(2));
  // @ts-expect-error gradientOf needs the output index k
  await pool32.gradientOf([1, 2]);
  const poolJSON = await createMLPPool({ spec: model });
  expectType<typeof poolJSON, MLPPool<Precision>>(true);
  const created = await createEngine();
  expectType<typeof created, Engine>(true);
}

// A model imported from JSON (names widened to string) type-checks as a spec; its precision is known
// at run time only, so its results are the union.
expectType<typeof model.precision, string>(true);
const fromJSON = createMLP(model);
expectType<typeof fromJSON, MLP<Precision>>(true);
expectType<ReturnType<typeof fromJSON.gradient>, Vector>(true);
const asLike: MLPSpecLike = model;
// A JSON model narrowed with `satisfies`/a cast to MLPSpec<"f64"> gets the precise type back.
const narrowed = createMLP(model as MLPSpec<"f64">);
expectType<ReturnType<typeof narrowed.gradient>, Float64Array>(true);
// Round trip: toJSON() keeps the precision.
const rebuilt = createMLP(net64.toJSON());
expectType<typeof rebuilt, MLP<"f64">>(true);

// Things that are not models are still refused.
// @ts-expect-error sizes is required
createMLP({ layers });
// @ts-expect-error layers is required
createMLP({ sizes: [2, 1] });
// @ts-expect-error precision must be a string
createMLP({ sizes: [2, 1], layers, precision: 64 });
// @ts-expect-error weights must be numbers
createMLP({ sizes: [2, 1], layers: [{ weights: ["1", "2"], bias: [0] }] });
// @ts-expect-error the key is `weights`, not `kernel`
createMLP({ sizes: [2, 1], layers: [{ kernel: [1, 2], bias: [0] }] });

// Functions that take any network accept every precision.
function takesAny(net: MLP): Vector {
  return net.gradient(x);
}
takesAny(net64);
takesAny(net32);
takesAny(fromJSON);

export { sum, wrong32, wrong64, more, asLike };

async function poolTypos(): Promise<void> {
  // @ts-expect-error "f16" is not a precision, for a pool either
  await createMLPPool({ spec: { sizes: [2, 1], layers, precision: "f16" as const } });
  // @ts-expect-error nor a misspelt activation
  await createMLPPool({ spec: { sizes: [2, 1], layers, activations: ["tahn"] as const } });
  // @ts-expect-error nor for grad
  await grad({ sizes: [2, 1], layers, activations: "sigmoidd" as const });
}
export { poolTypos };
