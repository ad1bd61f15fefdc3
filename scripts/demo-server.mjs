// `npm run demo`: serves the repository on 127.0.0.1 and prints the URL of the browser demo
// (examples/browser/). The page imports the built package (dist/mlpgrad.js); if it is missing, this
// builds it first. A free port unless --port N (or $PORT) names one.
//
//   node scripts/demo-server.mjs [--port N]
//
// serve() is also what tests/demo.test.ts runs, with a handler for the page's report.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
export const DEMO_PATH = "/examples/browser/";
const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".png": "image/png",
};

/**
 * Serves the repository root (files only, nothing outside it) on 127.0.0.1:port; POSTs go to onPost(path,
 * body). Resolves to { server, origin }.
 */
export async function serve({ port = 0, onPost } = {}) {
  const server = createServer((request, response) => {
    handle(request, response, onPost).catch((error) => response.writeHead(500).end(String(error)));
  });
  await new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", done);
  });
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

async function handle(request, response, onPost) {
  const url = new URL(request.url, "http://localhost");
  const path = decodeURIComponent(url.pathname);
  const headers = { "Cache-Control": "no-store" };
  if (request.method === "POST" && onPost !== undefined) {
    let body = "";
    for await (const chunk of request) body += chunk;
    response.writeHead(204, headers).end();
    onPost(path, body);
    return;
  }
  if (request.method !== "GET" && request.method !== "HEAD") return void response.writeHead(405, headers).end();
  let file = resolve(root, `.${path}`);
  if (file !== resolve(root) && !file.startsWith(resolve(root) + sep)) return void response.writeHead(403, headers).end();
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) file = join(file, "index.html");
  const body = await readFile(file).catch(() => undefined);
  if (body === undefined) return void response.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end(`not found: ${path}`);
  response.writeHead(200, { ...headers, "Content-Type": MIME[extname(file)] ?? "application/octet-stream", "Content-Length": body.length });
  response.end(request.method === "HEAD" ? undefined : body);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const argv = process.argv.slice(2);
  const text = argv.find((arg, i) => argv[i - 1] === "--port") ?? argv.find((arg) => arg.startsWith("--port="))?.slice(7) ?? process.env.PORT ?? "0";
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`demo: --port must be a port number (0 for a free one), got ${text}`);
    process.exit(2);
  }
  if (!existsSync(join(root, "dist/mlpgrad.js"))) {
    console.log("demo: dist/mlpgrad.js is missing; running npm run build first…");
    if (spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" }).status !== 0) process.exit(1);
  }
  try {
    const { origin } = await serve({ port });
    console.log(`mlpgrad demo: ${origin}${DEMO_PATH}   (Ctrl-C to stop)`);
  } catch (error) {
    console.error(`demo: cannot listen on 127.0.0.1:${port}: ${error.code ?? error.message}`);
    process.exit(1);
  }
}
