/**
 * mlpgrad-floor: the cold-start floor (bench/cold-floor.mjs) as a contender of bench/cold.mjs only — one
 * gradient, f32, sigmoid, number[] or typed weights as they come. It imports the one-module build of the
 * floor that cold.mjs writes before its clock starts (floorModule() below), which cold.mjs has imported
 * already as the floor's "library".
 */
import { readFileSync, writeFileSync } from "node:fs";

/** Where floorModule() writes the floor with the SIMD build's bytes inlined (build/ is not committed). */
export const FLOOR_URL = new URL("../../build/cold-floor.mjs", import.meta.url);

/**
 * Writes build/cold-floor.mjs: bench/cold-floor.mjs with its import of build/embed-raw/wasm.generated.js
 * replaced by that module's line (the base64 string of build/mlpgrad.simd.wasm, as dist/mlpgrad.node.js
 * embeds it), so the floor is one module, as the bundle is. Rewritten only when it changes.
 */
export function floorModule() {
  const source = readFileSync(new URL("../cold-floor.mjs", import.meta.url), "utf8");
  const IMPORT = 'import { SIMD_WASM } from "../build/embed-raw/wasm.generated.js";';
  let bytes;
  try {
    bytes = readFileSync(new URL("../../build/embed-raw/wasm.generated.js", import.meta.url), "utf8");
  } catch {
    throw new Error("build/embed-raw/wasm.generated.js is missing: run `npm run build` first");
  }
  const constant = bytes.split("\n").find((line) => line.startsWith("export const SIMD_WASM = "));
  if (!source.includes(IMPORT) || constant === undefined) throw new Error("bench/cold-floor.mjs or the embedded build changed form: update floorModule()");
  const text = source.replace(IMPORT, constant.replace("export const", "const"));
  let old;
  try {
    old = readFileSync(FLOOR_URL, "utf8");
  } catch {}
  if (old !== text) writeFileSync(FLOOR_URL, text);
  return FLOOR_URL;
}

/** Builds the floor for a network (sigmoid, f32): resolves { precision, gradient(x, out), info }. */
export async function create(net) {
  const floor = await import(FLOOR_URL.href);
  const t0 = performance.now();
  const kernels = await floor.init(net.sizes);
  const t1 = performance.now();
  const ok = floor.create(net.layers);
  const t2 = performance.now();
  if (!ok) throw new Error("the floor refused a weight (not a number, or beyond the f32 range)");
  // The floor puts its network at 64 KiB, above the kernels' own data.
  if (kernels.heapBase() > 65536) throw new Error(`the kernels' data reach ${kernels.heapBase()}, past the floor's network at 65536`);
  return { precision: "f32", gradient: floor.gradient, info: { initMs: t1 - t0, createMs: t2 - t1 } };
}
