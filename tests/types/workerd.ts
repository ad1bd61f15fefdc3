// The workerd entry (Cloudflare Workers) re-exports the API with its own init, grad and createMLPPool:
// their types follow the precision as the main entry's do.
import { createMLP, createMLPPool, grad, type MLP, type MLPPool, type Precision } from "../../src/index.workerd.js";
import model from "./model.json" with { type: "json" };

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<A, B>(_proof: Equal<A, B>): void {}

const layers = [{ weights: [1, 2], bias: [0] }];

async function workerd(): Promise<void> {
  const df = await grad({ sizes: [2, 1], layers, precision: "f64" });
  expectType<ReturnType<typeof df>, Float64Array>(true);
  const pool = await createMLPPool({ spec: { sizes: [2, 1], layers } });
  expectType<typeof pool, MLPPool<"f32">>(true);
  const fromJSON = await createMLPPool({ spec: model });
  expectType<typeof fromJSON, MLPPool<Precision>>(true);
  const net = createMLP({ sizes: [2, 1], layers, precision: "f64" });
  expectType<typeof net, MLP<"f64">>(true);
  // @ts-expect-error an f64 pool does not write into a Float32Array
  await createMLPPool({ spec: { sizes: [2, 1], layers, precision: "f64" } }).then((p) => p.forwardBatch([1, 2], new Float32Array(1)));
  // @ts-expect-error "f16" is not a precision
  await grad({ sizes: [2, 1], layers, precision: "f16" as const });
}

export { workerd };
