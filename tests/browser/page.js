// The page's side of the browser tests: runs the suite on the main thread, then in a module Web Worker,
// and publishes one summary { passed, failed, failures, results, env, url }: as JSON in #summary and
// document.title (for a person who opens the page), and POSTed to /__browser-tests/summary, where
// scripts/browser-tests.mjs waits for it (any other server just answers 404, which is ignored).
// Its answer may name the next page to load: the runner loads this page isolated, then not.
import { runSuite } from "./suite.js";

// The worker runs the whole suite again, pool included; this bounds a worker that never answers.
const WORKER_TIMEOUT_MS = 45_000;

function runInWorker() {
  return new Promise((resolve) => {
    const fail = (message) => {
      clearTimeout(timer);
      worker.terminate();
      resolve({ where: "worker", env: {}, results: [{ name: "worker: the suite ran in a module Web Worker", ok: false, message }] });
    };
    const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    const timer = setTimeout(() => fail(`no answer from the worker within ${WORKER_TIMEOUT_MS / 1000} s`), WORKER_TIMEOUT_MS);
    worker.onmessage = (event) => {
      clearTimeout(timer);
      worker.terminate();
      resolve(event.data);
    };
    // A module worker that fails to load gives an ErrorEvent without a message in Chromium.
    worker.onerror = (event) => fail(`the worker failed: ${event.message || "its script or an import did not load or threw"}`);
    worker.onmessageerror = () => fail("the worker's summary could not be deserialised");
  });
}

function show(results) {
  const list = document.getElementById("results");
  for (const result of results) {
    const item = document.createElement("li");
    item.textContent = `${result.ok ? "✓" : "✘"} ${result.name}${result.ok ? "" : `: ${result.message}`}`;
    item.style.color = result.ok ? "" : "#b00";
    list.append(item);
  }
}

// ?worker=0 runs the main thread only (the runner's second, not cross-origin isolated, load of this page).
const withWorker = new URLSearchParams(location.search).get("worker") !== "0";
const started = performance.now();
const page = await runSuite(crossOriginIsolated ? "page" : "page, not isolated");
show(page.results);
const worker = withWorker ? await runInWorker() : { env: undefined, results: [] };
show(worker.results);
const results = [...page.results, ...worker.results];
const failures = results.filter((result) => !result.ok);
const summary = {
  passed: results.length - failures.length,
  failed: failures.length,
  failures: failures.map((result) => `${result.name}: ${result.message}`),
  results,
  env: { page: page.env, worker: worker.env },
  url: location.pathname + location.search,
  ms: Math.round(performance.now() - started),
};
const text = JSON.stringify(summary);
document.getElementById("summary").textContent = text;
document.getElementById("status").textContent = `${summary.passed} passed, ${summary.failed} failed (${summary.ms} ms)`;
document.title = `mlpgrad browser tests: ${summary.failed === 0 ? "passed" : "failed"}`;
// The runner may answer with the next page to load (the same page served differently).
const reply = await fetch("/__browser-tests/summary", { method: "POST", body: text })
  .then((response) => (response.ok ? response.json() : {}))
  .catch(() => ({}));
if (typeof reply.next === "string") location.assign(reply.next);
