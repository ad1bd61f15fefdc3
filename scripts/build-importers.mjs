// Builds the importer entries mlpgrad/tfjs, mlpgrad/onnx and mlpgrad/safetensors, three bundles each:
//   dist/<name>.node.js — src/import/<name>.node.ts: bytes, URLs, and file paths / file: URLs via node:fs;
//   dist/<name>.node.cjs — the same as CommonJS, for `require` (types: dist/cjs/import/<name>.node.d.cts);
//   dist/<name>.js      — src/import/<name>.ts: bytes and URLs only, for browsers, workerd and bundlers.
// @bufbuild/protobuf's wire reader is bundled in (it is a devDependency: the package has no runtime
// dependency). esbuild --platform=browser rejects any `node:` specifier, even in a dynamic import, so the
// build fails if one reaches a default bundle.
import { build } from "esbuild";
import { readFileSync, statSync } from "node:fs";

const root = new URL("../", import.meta.url);
const NAMES = ["tfjs", "onnx", "safetensors"];

for (const name of NAMES) {
  for (const variant of ["node", "node-cjs", "default"]) {
    const node = variant !== "default";
    const cjs = variant === "node-cjs";
    const outfile = new URL(`dist/${name}${node ? ".node" : ""}.${cjs ? "cjs" : "js"}`, root).pathname;
    await build({
      entryPoints: [new URL(`src/import/${name}${node ? ".node" : ""}.ts`, root).pathname],
      outfile,
      bundle: true,
      format: cjs ? "cjs" : "esm",
      target: "es2022",
      platform: node ? "node" : "browser",
      sourcemap: true,
      logLevel: "warning",
    });
    const text = readFileSync(outfile, "utf8");
    if (!node && /["'`]node:/.test(text)) throw new Error(`${outfile}: a node: specifier reached the default (browser/workerd) bundle`);
    if (/\beval\(|new Function\(/.test(text)) throw new Error(`${outfile}: eval or new Function in an importer bundle`);
    console.log(`${outfile.slice(new URL(".", root).pathname.length)} ${statSync(outfile).size} bytes`);
  }
}
