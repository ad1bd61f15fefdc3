// Runs the uvu suites in dist/tests with --expose-gc (the heap-growth tests need it), then the browser
// tests in headless Chromium (scripts/browser-tests.mjs --skip-if-missing: a machine without Chromium
// says they were skipped and still passes), then the edge tests in workerd (scripts/edge-tests.mjs
// --skip-if-missing, likewise), echoes their output, and ends with one plain totals line over all of
// them, "N passed, N failed", for CI.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const TOTALS = /^(\d+) passed, (\d+) failed$/;

/** Runs node with args, echoing its stdout; resolves to { code, text }. */
function run(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      text += chunk;
    });
    child.on("close", (code) => resolve({ code, text }));
  });
}

const unit = await run(["--expose-gc", "node_modules/uvu/bin.js", "dist/tests", "\\.test\\.js$", ...process.argv.slice(2)]);
// uvu's summary: "Total: N", "Passed: N", "Skipped: N" (colour codes stripped).
const plain = unit.text.replace(/\x1b\[[0-9;]*m/g, "");
const count = (label) => Number(plain.match(new RegExp(`${label}:\\s+(\\d+)`))?.[1] ?? NaN);
const total = count("Total");
const skipped = count("Skipped") || 0;
const unitOk = unit.code === 0 && Number.isFinite(total) && total > 0;
const unitPassed = Number.isFinite(count("Passed")) ? count("Passed") : 0;
// uvu's Total counts the tests that ran; skipped ones are reported apart and are not failures.
const unitFailed = Number.isFinite(total) ? total - unitPassed : 1;
const unitTotals = { passed: unitPassed, failed: unitOk ? unitFailed : Math.max(unitFailed, 1) };

console.log("\nbrowser tests (headless Chromium):");
// Its own totals line is read here, and restated below under a label so that only the last line is bare.
const browser = await run(["scripts/browser-tests.mjs", "--skip-if-missing"]);
const lines = browser.text.trim().split("\n");
const browserTotals = TOTALS.exec(lines[lines.length - 1] ?? "");
const skippedBrowser = /^browser tests skipped: /m.test(browser.text);
let browserPassed = 0;
let browserFailed = 0;
if (browserTotals !== null) {
  browserPassed = Number(browserTotals[1]);
  browserFailed = Number(browserTotals[2]);
}
if (browser.code !== 0 || (browserTotals === null && !skippedBrowser)) browserFailed = Math.max(browserFailed, 1);

console.log("\nedge tests (workerd):");
// The same contract as the browser tests: a bare totals line last, or "edge tests skipped: <why>".
const edge = await run(["scripts/edge-tests.mjs", "--skip-if-missing"]);
const edgeLines = edge.text.trim().split("\n");
const edgeTotals = TOTALS.exec(edgeLines[edgeLines.length - 1] ?? "");
const skippedEdge = /^edge tests skipped: /m.test(edge.text);
const edgePassed = edgeTotals === null ? 0 : Number(edgeTotals[1]);
let edgeFailed = edgeTotals === null ? 0 : Number(edgeTotals[2]);
if (edge.code !== 0 || (edgeTotals === null && !skippedEdge)) edgeFailed = Math.max(edgeFailed, 1);

console.log(`\nunit tests (Node): ${unitTotals.passed} passed, ${unitTotals.failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
console.log(skippedBrowser ? "browser tests: skipped (no Chromium)" : `browser tests (Chromium): ${browserPassed} passed, ${browserFailed} failed`);
console.log(skippedEdge ? "edge tests: skipped (workerd cannot run here)" : `edge tests (workerd): ${edgePassed} passed, ${edgeFailed} failed`);
const passed = unitTotals.passed + browserPassed + edgePassed;
const failed = unitTotals.failed + browserFailed + edgeFailed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(unitOk && failed === 0 ? 0 : 1);
