// A browser application as a user writes it: `import … from "mlpgrad"`, bundled by esbuild, Vite or
// webpack (scripts/package-tests.mjs). It runs checks.js and POSTs the results to /__report, whose answer
// names the next page to load. The query string says what the pool must do: ?threads=2|1,
// &workerUrl=… (passed to createMLPPool), &fallback=1 (without workerUrl it must fall back and say why).
import * as mlpgrad from "mlpgrad";
import { runChecks } from "./checks.js";

// No top-level await: esbuild's default format for the browser is an IIFE, which cannot have it.
async function main() {
  const query = new URLSearchParams(location.search);
  const results = await runChecks(mlpgrad, {
    threads: Number(query.get("threads") ?? 2),
    workerUrl: query.get("workerUrl") ?? undefined,
    expectFallbackWithoutUrl: query.get("fallback") === "1",
  }).catch((error) => [{ name: "the checks ran", ok: false, message: String(error?.stack ?? error) }]);
  const answer = await fetch("/__report", { method: "POST", body: JSON.stringify({ page: location.pathname + location.search, isolated: crossOriginIsolated, results }) });
  const { next } = await answer.json();
  document.title = results.every((result) => result.ok) ? "passed" : "failed";
  if (next) location.href = next;
}

main();
