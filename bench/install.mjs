// Installs the benchmark's contenders (bench/package.json: TensorFlow.js, jax-js, benchmark.js) into
// bench/node_modules with `npm ci`, on the first `npm run bench` and whenever bench/package-lock.json
// changes; otherwise does nothing. They are not the library's devDependencies, so `npm ci` at the root
// (building and testing) does not download them.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const bench = fileURLToPath(new URL("./", import.meta.url));
const lock = new URL("./package-lock.json", import.meta.url);
// npm writes node_modules/.package-lock.json at the end of every install.
const installed = new URL("./node_modules/.package-lock.json", import.meta.url);
if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) process.exit(0);
console.log("bench: installing the contenders (npm ci in bench/, once)…");
const result = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: bench, stdio: "inherit" });
process.exit(result.status ?? 1);
