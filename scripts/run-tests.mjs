// Runs the uvu suites in dist/tests with --expose-gc (the heap-growth tests need it), echoes their
// output, and ends with one plain totals line, "N passed, N failed", for CI.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const args = ["--expose-gc", "node_modules/uvu/bin.js", "dist/tests", "\\.test\\.js$", ...process.argv.slice(2)];
const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
let text = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  text += chunk;
});
child.on("close", (code) => {
  // uvu's summary: "Total: N", "Passed: N", "Skipped: N" (colour codes stripped).
  const plain = text.replace(/\x1b\[[0-9;]*m/g, "");
  const count = (label) => Number(plain.match(new RegExp(`${label}:\\s+(\\d+)`))?.[1] ?? NaN);
  const total = count("Total");
  const passed = count("Passed");
  const skipped = count("Skipped") || 0;
  const ok = code === 0 && Number.isFinite(total) && total > 0;
  const failed = Number.isFinite(total) ? total - passed - skipped : 1;
  console.log(`${Number.isFinite(passed) ? passed : 0} passed, ${ok ? failed : Math.max(failed, 1)} failed`);
  process.exit(ok && failed === 0 ? 0 : 1);
});
