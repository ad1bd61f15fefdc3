// A TypeScript consumer of the packed package, type-checked (not run) by scripts/package-tests.mjs under
// module nodenext (as ESM and as CommonJS) and bundler resolution, with skipLibCheck off so that the
// package's own declarations are checked too.
import { init, createMLP, createMLPPool, MLPError, type MLPSpec, type MLPPoolOptions } from "mlpgrad";
import kernels from "mlpgrad/simd.wasm";

const spec: MLPSpec = { sizes: [2, 1], activations: "tanh", layers: [{ weights: [1, 2], bias: [0] }] };
const module: WebAssembly.Module = kernels;

export async function main(): Promise<number> {
  await init(module);
  const gradient = createMLP(spec).gradient([0.5, -0.5]);
  const first: number = gradient[0];
  const options: MLPPoolOptions = { spec, threads: 2, workerUrl: new URL("https://example.com/pool-worker.js") };
  const pool = await createMLPPool(options);
  const reason: string | undefined = pool.fallbackReason;
  await pool.dispose();
  try {
    createMLP({ sizes: [2, 1], layers: [] });
  } catch (error) {
    if (error instanceof MLPError) return error.code.length + first + (reason?.length ?? 0);
  }
  return first;
}
