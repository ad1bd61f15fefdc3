// Runs tests/browser/ in real headless Chromium: serves the repository root on 127.0.0.1 (a free port),
// loads tests/browser/index.html twice, cross-origin isolated (main thread, module worker, worker pool)
// and not (main thread, the pool's one-thread fallback), waits for each load to POST its summary, prints
// every check and one line "N passed, N failed", and exits non-zero on any failure. Headless Chromium
// opens one page only, so the answer to the first load's summary sends the page on to the second.
//
//   node scripts/browser-tests.mjs [--skip-if-missing] [--timeout SECONDS]
//
// No browser driver: the page reports to this script's own server, so all it needs is a Chromium binary
// ($CHROMIUM, else chromium, chromium-browser or google-chrome on the PATH). Without one it fails, or with
// --skip-if-missing prints "browser tests skipped: <why>" and exits 0. Needs dist/mlpgrad.js (npm run build).
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { delimiter, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const PAGE = "/tests/browser/index.html";
// ?isolated=0 makes the server leave out COOP/COEP on that page; ?worker=0 makes the page skip the worker.
const LOADS = [
  { path: PAGE, isolated: true },
  { path: `${PAGE}?isolated=0&worker=0`, isolated: false },
];
const SUMMARY_PATH = "/__browser-tests/summary";
// As this machine's Chromium needs them: running as root (no sandbox), no GPU, and nothing that reaches
// out to Google's services (a closed network refuses those connections, many at a time).
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];
const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};
const HEADERS = { "Cache-Control": "no-store", "Cross-Origin-Resource-Policy": "same-origin" };
// Cross-origin isolation, so the page and its workers get SharedArrayBuffer (the worker pool needs it).
const ISOLATION = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

const argv = process.argv.slice(2);
const skipIfMissing = argv.includes("--skip-if-missing");
const timeoutArg = argv.find((arg, i) => argv[i - 1] === "--timeout") ?? argv.find((arg) => arg.startsWith("--timeout="))?.slice(10);
const timeoutMs = 1000 * (timeoutArg === undefined ? 60 : Number(timeoutArg));
if (!(timeoutMs > 0)) fatal(`--timeout: expected a number of seconds, got ${timeoutArg}`);

const browser = findChromium();
if (browser === undefined) {
  const why = "no Chromium found (set $CHROMIUM, or install it: apt-get install chromium)";
  if (skipIfMissing) {
    console.log(`browser tests skipped: ${why}`);
    process.exit(0);
  }
  fatal(`browser tests: ${why}; pass --skip-if-missing to skip them instead`);
}
if (!existsSync(join(root, "dist/mlpgrad.js"))) fatal("browser tests: dist/mlpgrad.js is missing; run `npm run build` first");

const started = performance.now();
const notFound = [];
const summaries = new Map();
let receive;
// Every load's summary, or the first fatal report (a string, or a summary with `fatal`).
const summariesArrived = new Promise((resolve) => {
  receive = (summary) => {
    if (typeof summary === "string" || summary.fatal !== undefined) return resolve(summary);
    summaries.set(summary.url, summary);
    if (LOADS.every((load) => summaries.has(load.path))) resolve(summaries);
  };
});
const server = createServer((request, response) => handle(request, response).catch((error) => {
  response.writeHead(500, { ...HEADERS, ...ISOLATION }).end(String(error));
}));
await new Promise((done) => server.listen(0, "127.0.0.1", done));
const origin = `http://127.0.0.1:${server.address().port}`;

const profile = await mkdtemp(join(tmpdir(), "mlpgrad-chromium-"));
// Its own process group, so the browser's helper processes can be ended with it.
const chromium = spawn(browser, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, origin + LOADS[0].path], {
  detached: true,
  stdio: ["ignore", "ignore", "pipe"],
});
let stderr = "";
chromium.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-8000)));
const exited = new Promise((resolve) => {
  chromium.on("exit", (code, signal) => resolve(`Chromium exited early (${signal ?? `code ${code}`})`));
  chromium.on("error", (error) => resolve(`Chromium could not be started: ${error.message}`));
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await cleanUp();
    process.exit(1);
  });
}

let timer;
const outcome = await Promise.race([
  summariesArrived,
  exited,
  new Promise((resolve) => {
    const waiting = () => LOADS.filter((load) => !summaries.has(load.path)).map((load) => load.path).join(" and ");
    timer = setTimeout(() => resolve(`no summary from ${waiting()} within ${timeoutMs / 1000} s`), timeoutMs);
  }),
]);
clearTimeout(timer);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
await cleanUp();

if (!(outcome instanceof Map)) {
  console.log(`✘ browser tests did not finish: ${typeof outcome === "string" ? outcome : `${outcome.url}: ${outcome.fatal}`}`);
  if (notFound.length > 0) console.log(`  not found on the server: ${notFound.join(", ")}`);
  // Without the noise of a machine with no D-Bus, and of the browser being ended.
  const log = stderr.split("\n").filter((line) => line.trim() !== "" && !/dbus|zygote_communication|unexpected operator/.test(line));
  if (log.length > 0) console.log(`  Chromium's last output:\n${indent(log.slice(-20).join("\n"))}`);
  console.log(`(${seconds} s)`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}

// Checked here rather than on the page, which may be opened by hand with or without the headers.
const results = [];
for (const load of LOADS) {
  const summary = outcome.get(load.path);
  const isolated = summary.env?.page?.crossOriginIsolated === true;
  results.push({
    name: `runner: ${load.path} is ${load.isolated ? "" : "not "}cross-origin isolated, as served`,
    ok: isolated === load.isolated,
    message: `crossOriginIsolated is ${isolated}`,
  });
  results.push(...summary.results);
}
for (const result of results) {
  console.log(`${result.ok ? "✓" : "✘"} ${result.name}`);
  if (!result.ok) console.log(indent(result.message ?? "(no message)"));
}
const passed = results.filter((result) => result.ok).length;
const failed = results.length - passed;
const main = outcome.get(LOADS[0].path);
const env = main.env?.page ?? {};
const browserName = /(?:Headless)?Chrome\/[\d.]+/.exec(env.userAgent ?? "")?.[0] ?? env.userAgent;
console.log(
  `browser: ${browserName}; SIMD ${env.simd ? "yes" : "no"}; relaxed SIMD ${env.relaxed ? "yes" : "no"}; pool: ${env.pool}; the pages ran their checks in ` +
    `${LOADS.map((load) => `${outcome.get(load.path).ms} ms`).join(" and ")}; the whole run took ${seconds} s`,
);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);

/** Static files from the repository root (no directory listings, nothing outside it), and the summary POST. */
async function handle(request, response) {
  const url = new URL(request.url, "http://localhost");
  const path = decodeURIComponent(url.pathname);
  const headers = url.searchParams.get("isolated") === "0" ? HEADERS : { ...HEADERS, ...ISOLATION };
  if (request.method === "POST" && path === SUMMARY_PATH) {
    let body = "";
    for await (const chunk of request) body += chunk;
    let summary;
    try {
      summary = JSON.parse(body);
    } catch (error) {
      summary = `the page's summary is not JSON (${error.message}): ${body.slice(0, 200)}`;
    }
    const next = LOADS[LOADS.findIndex((load) => load.path === summary?.url) + 1];
    response.writeHead(200, { ...headers, "Content-Type": "application/json" }).end(JSON.stringify({ next: next?.path }));
    receive(summary);
    return;
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.writeHead(405, headers).end();
    return;
  }
  let file = resolve(root, `.${path}`);
  if (file !== resolve(root) && !file.startsWith(resolve(root) + sep)) {
    response.writeHead(403, headers).end();
    return;
  }
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) file = join(file, "index.html");
  const body = await readFile(file).catch(() => undefined);
  if (body === undefined) {
    // Chromium asks for /favicon.ico on its own; not worth reporting.
    if (path !== "/favicon.ico") notFound.push(path);
    response.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end(`not found: ${path}`);
    return;
  }
  response.writeHead(200, { ...headers, "Content-Type": MIME[extname(file)] ?? "application/octet-stream", "Content-Length": body.length });
  response.end(request.method === "HEAD" ? undefined : body);
}

/** Ends the browser (its whole process group), the server and the temporary profile. */
async function cleanUp() {
  if (chromium.exitCode === null && chromium.signalCode === null && chromium.pid !== undefined) {
    const gone = new Promise((resolve) => chromium.once("exit", resolve));
    killGroup("SIGTERM");
    const timeout = new Promise((resolve) => setTimeout(() => resolve("timeout"), 5000));
    if ((await Promise.race([gone, timeout])) === "timeout") killGroup("SIGKILL");
  } else {
    killGroup("SIGKILL"); // helper processes the browser may have left behind
  }
  server.closeAllConnections?.();
  await new Promise((resolve) => server.close(resolve));
  await rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }).catch(() => {});
}

function killGroup(signal) {
  try {
    process.kill(-chromium.pid, signal);
  } catch {
    // The group has already exited.
  }
}

function findChromium() {
  if (process.env.CHROMIUM) return existsSync(process.env.CHROMIUM) ? process.env.CHROMIUM : undefined;
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    for (const dir of (process.env.PATH ?? "").split(delimiter)) {
      const candidate = join(dir, name);
      if (dir !== "" && existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    }
  }
  return undefined;
}

function indent(text) {
  return text.replace(/^/gm, "    ");
}

function fatal(message) {
  console.log(message);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
