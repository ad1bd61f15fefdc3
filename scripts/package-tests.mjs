// Packaging tests: mlpgrad as users get it. Packs the package (npm pack), installs the tarball into a
// temporary project, then, from that install:
//
//   exports   every subpath of the exports map, resolved with the conditions browser / workerd / worker /
//             default (as bundlers do), names a file in the tarball whose code has no `node:` specifier
//   esbuild   `esbuild app --bundle --platform=browser` (IIFE: no import.meta, so the pool's worker is
//             found only through workerUrl; and --format=esm, the worker copied beside the bundle)
//             → headless Chromium, cross-origin isolated
//   esbuild   `--bundle --platform=neutral --conditions=workerd,worker,browser` (wrangler's resolution
//             without nodejs_compat; the .wasm import kept as a module, as wrangler does) → workerd
//   Vite      `vite build` with no config → Chromium      webpack 5 (production, no config) → Chromium
//   Node      ESM import and CommonJS require            Deno, Bun (npm packages `deno`, `bun`)
//   install   `npm install --install-links <this folder>` (runs `prepare`, as a git install does)
//   types     @arethetypeswrong/cli on the tarball; tsc on a consumer under nodenext (ESM and CommonJS)
//             and bundler resolution, skipLibCheck off
//
// Each bundle or runtime runs tests/package/checks.js: gradients against an f64 reference, a batch, and a
// pool of two threads (one in workerd, which has none). The tools are this repository's devDependencies,
// run from here on the temporary project: nothing is downloaded. Prints each check and ends with one line
// "N passed, N failed"; exits non-zero on any failure. Needs a build (npm run build).
//
//   node scripts/package-tests.mjs [--keep] [--only NAME,NAME]   (names: exports, esbuild, workerd, vite,
//                                   webpack, chromium, node, install, deno, bun, attw, tsc)
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = fileURLToPath(new URL("../", import.meta.url));
const bin = (name) => join(root, "node_modules/.bin", name);
const run = promisify(execFile);
const argv = process.argv.slice(2);
const keep = argv.includes("--keep");
const onlyArg = argv.find((arg, i) => argv[i - 1] === "--only");
const only = onlyArg === undefined ? undefined : new Set(onlyArg.split(","));
const wanted = (name) => only === undefined || only.has(name);

const results = [];
const started = performance.now();
function check(name, ok, message) {
  results.push({ name, ok, message });
  console.log(`${ok ? "✓" : "✘"} ${name}${message ? ` — ${ok ? message : ""}` : ""}`);
  if (!ok) console.log(String(message ?? "").replace(/^/gm, "    "));
}
/** Records a runtime's or page's results (from checks.js) under a label. */
function record(label, list) {
  if (!Array.isArray(list) || list.length === 0) return check(`${label}: ran its checks`, false, `no results: ${JSON.stringify(list)}`);
  for (const result of list) check(`${label}: ${result.name}`, result.ok, result.message);
}
async function step(name, body) {
  const at = performance.now();
  try {
    await body();
  } catch (error) {
    check(name, false, error?.stderr ? `${error.message}\n${error.stderr}` : error?.stack ?? String(error));
  }
  timings.push(`${name} ${((performance.now() - at) / 1000).toFixed(1)} s`);
}
const timings = [];
/** Runs a command; resolves to its stdout (rejects with stderr on failure or after `timeout` ms). */
async function exec(file, args, options = {}) {
  const { stdout } = await run(file, args, { timeout: 120_000, maxBuffer: 64 << 20, ...options });
  return stdout;
}
const lastJsonLine = (text) => JSON.parse(text.trim().split("\n").pop());

// ---- Pack and install. ----
const tmp = await mkdtemp(join(tmpdir(), "mlpgrad-package-"));
const app = (path) => join(tmp, path);
let tarball;
let installed;
try {
  // --ignore-scripts: prepare would rebuild, and this runs after a build.
  const packed = JSON.parse(await exec("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", tmp], { cwd: root }));
  tarball = join(tmp, packed[0].filename);
  check("npm pack", true, `${packed[0].filename}: ${packed[0].entryCount} files, ${(packed[0].size / 1024).toFixed(1)} KiB packed, ${(packed[0].unpackedSize / 1024).toFixed(1)} KiB unpacked`);
  writeFileSync(app("package.json"), JSON.stringify({ name: "mlpgrad-consumer", private: true, type: "module" }, null, 2));
  // The tarball has no dependencies, so the install needs no registry.
  await exec("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock", tarball], { cwd: tmp });
  installed = app("node_modules/mlpgrad");
  check("npm install <tarball> into a new project", existsSync(join(installed, "package.json")), installed);
} catch (error) {
  check("npm pack and install", false, error.stderr ?? error.stack);
  finish();
}
for (const file of readdirSync(join(root, "tests/package"))) cpSync(join(root, "tests/package", file), app(file), { recursive: true });
const pkg = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));

// ---- The exports map: no node: specifier where Node is absent. ----
/** The target of an exports entry for a resolver with these conditions (object order decides). */
function resolveTarget(target, conditions) {
  if (typeof target === "string" || target == null) return target ?? undefined;
  for (const [key, value] of Object.entries(target)) {
    if (conditions.includes(key)) {
      const found = resolveTarget(value, conditions);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
// Each, as the tools that set it resolve: browsers' bundlers, wrangler, a bare `worker`, and nothing at all.
const CONDITION_SETS = {
  browser: ["browser", "import", "default"],
  workerd: ["workerd", "worker", "browser", "import", "default"],
  worker: ["worker", "import", "default"],
  default: ["default"],
};
if (wanted("exports")) {
  await step("exports", async () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      for (const [name, conditions] of Object.entries(CONDITION_SETS)) {
        const file = resolveTarget(target, conditions);
        const label = `exports["${subpath}"] under ${name}`;
        if (file === undefined) {
          // A Node-only subpath (exported under `node` alone) is right to resolve to nothing here: the
          // bundler then says it is not exported, instead of failing on a node: import. Not so for ".".
          check(`${label}: not exported under these conditions (a Node-only subpath)`, subpath !== ".", "the root entry must resolve everywhere");
          continue;
        }
        const path = join(installed, file);
        if (!existsSync(path)) {
          check(`${label}: ${file} is in the tarball`, false, `missing ${file}`);
          continue;
        }
        if (![".js", ".mjs", ".cjs"].includes(extname(file))) {
          check(`${label}: ${file} is in the tarball`, true);
          continue;
        }
        // Follow the file's relative imports (the pool's worker script, chunks) as a bundler would.
        const seen = new Set();
        const queue = [path];
        const offenders = [];
        while (queue.length > 0) {
          const current = queue.pop();
          if (seen.has(current)) continue;
          seen.add(current);
          const text = readFileSync(current, "utf8").replace(/\/\/# sourceMappingURL=.*/g, "");
          for (const match of text.matchAll(/["'`](node:[\w/]+)["'`]/g)) offenders.push(`${current.slice(installed.length + 1)}: ${match[1]}`);
          for (const match of text.matchAll(/(?:from\s*|import\s*\(\s*|new URL\(\s*)["'](\.\.?\/[^"']+\.(?:js|mjs|cjs))["']/g)) {
            queue.push(resolve(dirname(current), match[1]));
          }
        }
        check(`${label} → ${file}${seen.size > 1 ? ` (+ ${[...seen].slice(1).map((p) => p.slice(installed.length + 1)).join(", ")})` : ""}: no node: specifier`, offenders.length === 0, offenders.join(", "));
      }
    }
    const node = resolveTarget(pkg.exports["."], ["node", "import", "default"]);
    const nodeRequire = resolveTarget(pkg.exports["."], ["node", "require", "default"]);
    check("Node's import and require take the Node entries (the pool on worker_threads)", node === "./dist/mlpgrad.node.js" && nodeRequire === "./dist/mlpgrad.cjs", `${node}, ${nodeRequire}`);
  });
}

// ---- Bundles. ----
const pages = []; // { dir, path, label }: each bundle's output folder is served at the root of its own origin
const page = (dir, html, script, module) =>
  writeFileSync(app(join(dir, html)), `<!doctype html><meta charset="utf-8"><title>mlpgrad ${dir}</title><script ${module ? 'type="module" ' : ""}src="${script}"></script>\n`);

if (wanted("esbuild") || wanted("chromium")) {
  await step("esbuild --bundle --platform=browser", async () => {
    mkdirSync(app("esbuild"), { recursive: true });
    await exec(bin("esbuild"), ["browser-app.js", "--bundle", "--platform=browser", "--outfile=esbuild/app.js", "--log-level=error"], { cwd: tmp });
    const text = readFileSync(app("esbuild/app.js"), "utf8");
    check("esbuild --bundle --platform=browser builds with default flags", !/["']node:/.test(text), `${(text.length / 1024).toFixed(1)} KiB`);
    // esbuild leaves the pool's worker behind (see docs/bundlers.md): the user copies it and passes workerUrl.
    cpSync(join(installed, "dist/pool-worker.js"), app("esbuild/pool-worker.js"));
    page("esbuild", "index.html", "app.js", false);
    pages.push({ dir: "esbuild", path: "/index.html?threads=2&fallback=1&workerUrl=pool-worker.js", label: "esbuild (browser, IIFE) in Chromium" });
    // As ESM the bundle has import.meta.url: the worker copied beside it is found without workerUrl.
    mkdirSync(app("esbuild-esm"), { recursive: true });
    await exec(bin("esbuild"), ["browser-app.js", "--bundle", "--platform=browser", "--format=esm", "--outfile=esbuild-esm/app.js", "--log-level=error"], { cwd: tmp });
    cpSync(join(installed, "dist/pool-worker.js"), app("esbuild-esm/pool-worker.js"));
    page("esbuild-esm", "index.html", "app.js", true);
    pages.push({ dir: "esbuild-esm", path: "/index.html?threads=2", label: "esbuild (browser, --format=esm, pool-worker.js copied beside it) in Chromium" });
  });
}
if (wanted("vite") || wanted("chromium")) {
  await step("vite build", async () => {
    mkdirSync(app("vite"), { recursive: true });
    cpSync(app("browser-app.js"), app("vite/main.js"));
    cpSync(app("checks.js"), app("vite/checks.js"));
    page("vite", "index.html", "/main.js", true);
    // `vite build` in that folder, no config: the CLI, run from this repository's node_modules.
    await exec(process.execPath, [join(root, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "error"], { cwd: app("vite") });
    const assets = readdirSync(app("vite/dist/assets"));
    const worker = assets.find((name) => /^pool-worker.*\.js$/.test(name));
    check("vite build (no config) builds and emits the pool's worker", worker !== undefined, assets.join(", "));
    pages.push({ dir: "vite/dist", path: "/index.html?threads=2", label: "Vite in Chromium" });
  });
}
if (wanted("webpack") || wanted("chromium")) {
  await step("webpack", async () => {
    mkdirSync(app("webpack/src"), { recursive: true });
    cpSync(app("browser-app.js"), app("webpack/src/index.js"));
    cpSync(app("checks.js"), app("webpack/src/checks.js"));
    // webpack's defaults: ./src/index.js → ./dist/main.js. Only the mode is said, to silence its warning.
    // (context and output.path are what the CLI run in that folder would take).
    const webpack = createRequire(join(root, "package.json"))("webpack");
    const stats = await new Promise((done, fail) =>
      webpack({ mode: "production", context: app("webpack"), output: { path: app("webpack/dist") }, performance: { hints: false } }, (error, result) => (error ? fail(error) : done(result))),
    );
    const info = stats.toJson({ all: false, errors: true, assets: true });
    const errors = info.errors.map((error) => error.message).join("\n");
    check("webpack 5 (production, no config) builds and emits the pool's worker", !stats.hasErrors() && info.assets.length >= 2, errors || info.assets.map((asset) => asset.name).join(", "));
    page("webpack/dist", "index.html", "main.js", false);
    pages.push({ dir: "webpack/dist", path: "/index.html?threads=2", label: "webpack in Chromium" });
  });
}
if (wanted("chromium") && pages.length > 0) await step("Chromium", () => runPages(pages));

if (wanted("workerd")) {
  await step("workerd", async () => {
    mkdirSync(app("workerd"), { recursive: true });
    // wrangler's resolution; the one flag beyond that keeps `import … from "./mlpgrad.simd.wasm"` an import,
    // which wrangler turns into an uploaded WebAssembly module (here: a wasm module in the config).
    await exec(bin("esbuild"), ["worker-app.js", "--bundle", "--platform=neutral", "--conditions=workerd,worker,browser", "--external:*.wasm", "--outfile=workerd/worker.js", "--log-level=error"], { cwd: tmp });
    const text = readFileSync(app("workerd/worker.js"), "utf8");
    check("esbuild --platform=neutral --conditions=workerd,worker,browser builds (the workerd entry, no node:)", !/["']node:/.test(text) && text.includes("mlpgrad.simd.wasm"), `${(text.length / 1024).toFixed(1)} KiB`);
    cpSync(join(installed, "dist/mlpgrad.simd.wasm"), app("workerd/mlpgrad.simd.wasm"));
    writeFileSync(
      app("workerd/config.capnp"),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .app) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);
const app :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "mlpgrad.simd.wasm", wasm = embed "mlpgrad.simd.wasm"),
  ],
  compatibilityDate = "2026-11-17",
);
`,
    );
    record("workerd (esbuild, wrangler's conditions)", await serveWorkerd(app("workerd/config.capnp")));
  });
}

// ---- Runtimes. ----
if (wanted("node")) {
  await step("node ESM", async () => record("Node, import", lastJsonLine(await exec(process.execPath, ["runtime-app.mjs"], { cwd: tmp }))));
  await step("node CJS", async () => record("Node, require", lastJsonLine(await exec(process.execPath, ["runtime-app.cjs"], { cwd: tmp }))));
}
if (wanted("install")) {
  await step("folder install", async () => {
    // `npm install --install-links <folder>`: npm runs the folder's `prepare` (which builds only when the
    // build is stale: here it is fresh) and installs a packed copy, as for a git URL after cloning.
    const project = app("folder-install");
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "mlpgrad-folder-consumer", private: true, type: "module" }));
    const at = performance.now();
    await exec("npm", ["install", "--install-links", "--offline", "--no-audit", "--no-fund", "--no-package-lock", root], { cwd: project, timeout: 300_000 });
    const seconds = ((performance.now() - at) / 1000).toFixed(1);
    for (const file of ["checks.js", "runtime-app.mjs"]) cpSync(app(file), join(project, file));
    record(`npm install --install-links <this folder> (${seconds} s), Node`, lastJsonLine(await exec(process.execPath, ["runtime-app.mjs"], { cwd: project })));
  });
}
if (wanted("deno")) {
  await step("deno", async () => {
    const version = (await exec(bin("deno"), ["--version"])).split("\n")[0];
    // A package.json beside it: Deno resolves "mlpgrad" from node_modules, offline (no registry).
    const out = await exec(bin("deno"), ["run", "--quiet", "--allow-read", "--allow-env", "--cached-only", "runtime-app.mjs"], { cwd: tmp, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } });
    record(`Deno (${version})`, lastJsonLine(out));
  });
}
if (wanted("bun")) {
  await step("bun", async () => {
    const bun = bunBinary();
    const version = (await exec(bun, ["--version"])).trim();
    record(`Bun ${version}`, lastJsonLine(await exec(bun, ["runtime-app.mjs"], { cwd: tmp, env: { ...process.env, NO_COLOR: "1" } })));
  });
}

// ---- Types. ----
if (wanted("attw")) {
  await step("attw", async () => {
    const out = await exec(process.execPath, [join(root, "node_modules/@arethetypeswrong/cli/dist/index.js"), tarball, "--format", "json"]).catch((error) => error.stdout ?? Promise.reject(error));
    const report = JSON.parse(out);
    // node10 (moduleResolution "node") has no exports map, so it cannot see subpaths: expected, and said so.
    const node10Subpath = (problem) => problem.kind === "NoResolution" && problem.resolutionKind === "node10" && problem.entrypoint !== ".";
    const all = report.analysis?.problems ?? [];
    const problems = all.filter((problem) => !node10Subpath(problem)).map((problem) => `${problem.kind} ${problem.entrypoint ?? ""} ${problem.resolutionKind ?? ""}`.trim());
    check("@arethetypeswrong/cli finds no problem in the tarball's types", problems.length === 0, problems.length ? problems.join("\n") : `entry points ${Object.keys(report.analysis?.entrypoints ?? {}).join(", ")} under node10, node16 (CJS, ESM), bundler; ${all.length} expected: the .wasm subpaths under node10`);
  });
}
if (wanted("tsc")) {
  await step("tsc", async () => {
    const consumer = readFileSync(app("ts/consumer.ts"), "utf8");
    const base = { strict: true, skipLibCheck: false, noEmit: true, target: "ES2022", lib: ["ES2022", "DOM"], types: [] };
    const projects = {
      "nodenext, ESM": { type: "module", file: "consumer.ts", options: { module: "NodeNext", moduleResolution: "NodeNext" } },
      "nodenext, CommonJS": { type: "commonjs", file: "consumer.cts", options: { module: "NodeNext", moduleResolution: "NodeNext" } },
      "bundler": { type: "module", file: "consumer.ts", options: { module: "ESNext", moduleResolution: "Bundler" } },
    };
    await Promise.all(
      Object.entries(projects).map(async ([name, { type, file, options }]) => {
        const dir = app(`ts-${name.replace(/\W+/g, "-")}`);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, "package.json"), JSON.stringify({ type }));
        writeFileSync(join(dir, file), consumer);
        writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...base, ...options }, files: [file] }));
        const out = await exec(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", dir, "--pretty", "false"]).then(
          () => "",
          (error) => error.stdout || error.message,
        );
        check(`tsc: a consumer type-checks under ${name} resolution (declarations checked too)`, out === "", out.trim());
      }),
    );
  });
}
finish();

// ---- Helpers. ----

function finish() {
  if (!keep) rmSync(tmp, { recursive: true, force: true });
  else console.log(`kept ${tmp}`);
  const passed = results.filter((result) => result.ok).length;
  const failed = results.length - passed;
  console.log(`package tests: ${((performance.now() - started) / 1000).toFixed(1)} s (${timings.join(", ")})`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

/**
 * Serves each page's folder at the root of its own origin (a port of its own), cross-origin isolated, as
 * a site would deploy the bundle, and loads the pages one after the other in one headless Chromium.
 */
async function runPages(list) {
  const browser = findChromium();
  if (browser === undefined) {
    // As the browser tests do (scripts/browser-tests.mjs --skip-if-missing): said, not counted.
    console.log("- the bundles in Chromium: skipped, no Chromium found (apt-get install chromium, or set $CHROMIUM)");
    return;
  }
  const reports = new Map();
  let done;
  const allIn = new Promise((resolve) => (done = resolve));
  const headers = {
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
  };
  const types = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
  const servers = [];
  const urls = [];
  for (const [i, item] of list.entries()) {
    const base = app(item.dir);
    const server = createServer(async (request, response) => {
      const url = new URL(request.url, "http://localhost");
      if (request.method === "POST" && url.pathname === "/__report") {
        let body = "";
        for await (const chunk of request) body += chunk;
        reports.set(i, JSON.parse(body));
        response.writeHead(200, { ...headers, "Content-Type": "application/json" }).end(JSON.stringify({ next: urls[i + 1] }));
        if (reports.size === list.length) done();
        return;
      }
      const file = resolve(base, `.${decodeURIComponent(url.pathname)}`);
      if (!file.startsWith(base + sep) || !existsSync(file) || !statSync(file).isFile()) return response.writeHead(404, headers).end();
      response.writeHead(200, { ...headers, "Content-Type": `${types[extname(file)] ?? "application/octet-stream"}; charset=utf-8` }).end(readFileSync(file));
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
    urls.push(`http://127.0.0.1:${server.address().port}${item.path}`);
  }
  const profile = app("chromium-profile");
  const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];
  const chromium = spawn(browser, [...flags, `--user-data-dir=${profile}`, urls[0]], { detached: true, stdio: "ignore" });
  let timer;
  const timedOut = new Promise((resolve) => (timer = setTimeout(() => resolve("timeout"), 60_000)));
  const outcome = await Promise.race([allIn, timedOut]);
  clearTimeout(timer);
  try {
    process.kill(-chromium.pid, "SIGKILL");
  } catch {
    // already gone
  }
  for (const server of servers) {
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  }
  for (const [i, item] of list.entries()) {
    const report = reports.get(i);
    if (report === undefined) {
      check(`${item.label}: the page reported`, false, `${urls[i]}: ${outcome === "timeout" ? "no report within 60 s" : "no report"}`);
      continue;
    }
    check(`${item.label}: the page is cross-origin isolated`, report.isolated === true, String(report.isolated));
    record(item.label, report.results);
  }
}

/**
 * The Bun binary from the npm package's platform dependency (@oven/bun-linux-x64, …). The `bun` package's
 * own bin is a placeholder until its postinstall script links this file there; that script is not
 * allowed (package.json allowScripts), since the binary is already here.
 */
function bunBinary() {
  const arch = { x64: "x64", arm64: "aarch64" }[process.arch] ?? process.arch;
  try {
    return createRequire(join(root, "package.json")).resolve(`@oven/bun-${process.platform}-${arch}/bin/bun`);
  } catch {
    return bin("bun");
  }
}

function findChromium() {
  if (process.env.CHROMIUM) return existsSync(process.env.CHROMIUM) ? process.env.CHROMIUM : undefined;
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    for (const dir of (process.env.PATH ?? "").split(delimiter)) {
      const candidate = join(dir, name);
      if (dir !== "" && existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Serves a workerd config on a port the OS picks (reported on --control-fd), requests / once, stops it. */
async function serveWorkerd(config) {
  const binary = createRequire(join(root, "package.json"))("workerd").default;
  const child = spawn(binary, ["serve", config, "--control-fd=3"], { stdio: ["ignore", "pipe", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (chunk) => (log += chunk));
  child.stderr.on("data", (chunk) => (log += chunk));
  try {
    const port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`workerd did not listen within 30 s\n${log}`)), 30_000);
      let control = "";
      child.stdio[3].on("data", (chunk) => {
        const lines = (control + chunk).split("\n");
        control = lines.pop();
        for (const line of lines) {
          if (/"event":"listen"/.test(line)) {
            clearTimeout(timer);
            resolve(JSON.parse(line).port);
          }
        }
      });
      child.once("exit", (code) => reject(new Error(`workerd exited (code ${code}) before listening\n${log}`)));
    });
    const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`workerd answered HTTP ${response.status}: ${text.slice(0, 500)}\n${log}`);
    }
  } finally {
    child.kill("SIGKILL");
  }
}
