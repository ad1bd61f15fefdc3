// Builds only when the build is stale: `npm run build` unless dist/.build-stamp (written by the end of
// `npm run build`, with --stamp) is newer than every build input. Used by `npm start`, the examples and
// `prepare` (which npm runs on `npm ci`/`npm install` here, and in a git or folder install before packing).
//
//   node scripts/build-if-stale.mjs           build if stale
//   node scripts/build-if-stale.mjs --stamp   record that the build is complete (the last step of `build`)
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const stamp = join(root, "dist/.build-stamp");
// Everything the build reads; src/wasm*.generated.ts are written by it.
const INPUTS = ["assembly", "src", "tests", "examples", "scripts", "types", "asconfig.json", "tsconfig.json", "package.json", "package-lock.json"];
const GENERATED = new Set([join(root, "src/wasm.generated.ts"), join(root, "src/wasm-scalar.generated.ts"), join(root, "src/wasm-relaxed.generated.ts")]);

if (process.argv.includes("--stamp")) {
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  process.exit(0);
}

/** The newest modification time under `path` (files only), and which file it is. */
function newest(path, best = { time: 0, file: "" }) {
  if (!existsSync(path) || GENERATED.has(path)) return best;
  const info = statSync(path);
  if (info.isDirectory()) {
    for (const name of readdirSync(path)) newest(join(path, name), best);
  } else if (info.mtimeMs > best.time) {
    best.time = info.mtimeMs;
    best.file = path;
  }
  return best;
}

const input = INPUTS.reduce((best, path) => newest(join(root, path), best), { time: 0, file: "" });
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (built > input.time) {
  console.log(`build is up to date (dist/.build-stamp is newer than ${input.file.slice(root.length)}); npm run build forces one`);
  process.exit(0);
}
console.log(built === 0 ? "no complete build yet: building" : `${input.file.slice(root.length)} changed since the last build: building`);
const result = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
process.exit(result.status ?? 1);
