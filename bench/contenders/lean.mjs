/**
 * mlpgrad-lean: mlpgrad's cold path alone (bench/cold-lean.mjs), as a contender of bench/cold.mjs only —
 * the same create and gradient as mlpgrad-f32 (bench/contenders/mlpgrad-build.mjs), run on
 * build/cold-lean/mlpgrad.node.js, which cold.mjs has imported already as this contender's library.
 * This module imports nothing heavier than that, so that the process is the one mlpgrad-f32 runs in.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createWith } from "./mlpgrad-build.mjs";

/** Where bench/cold-lean.mjs writes the cold path alone, and the stamp naming the bundle it came from. */
export const LEAN_URL = new URL("../../build/cold-lean/mlpgrad.node.js", import.meta.url);
export const LEAN_STAMP_URL = new URL("../../build/cold-lean/stamp.json", import.meta.url);

/** What the stamp records of the bundle the lean copy was made from. */
export function leanStamp(bundleSource) {
  return { bundleSha256: createHash("sha256").update(bundleSource).digest("hex") };
}

/** Throws unless build/cold-lean/mlpgrad.node.js (its stamp: `stampUrl`) was made from the current dist/mlpgrad.node.js. */
export function checkLeanFresh(stampUrl = LEAN_STAMP_URL) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(stampUrl, "utf8"));
  } catch {
    throw new Error("build/cold-lean/ is missing: run `node bench/cold-lean.mjs` (npm run bench does) first");
  }
  const bundle = readFileSync(new URL("../../dist/mlpgrad.node.js", import.meta.url), "utf8");
  if (stamp.bundleSha256 !== leanStamp(bundle).bundleSha256) {
    throw new Error("build/cold-lean/ was made from another build of dist/mlpgrad.node.js: run `node bench/cold-lean.mjs` again");
  }
}

/** Builds the contender as mlpgrad-f32 does, from the lean copy of the bundle. */
export async function create(net, options) {
  return createWith(await import(LEAN_URL.href), net, options);
}
