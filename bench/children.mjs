/**
 * Runs one child process of the suite and returns its one JSON line as an object. A child that
 * crashes, prints no JSON or runs past its time limit still yields an object, with status "ERROR",
 * so one broken contender never stops the run.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));

/**
 * Spawns `node [nodeArgs] bench/<script> [args]`, writes `job` (if any) as JSON to its stdin and
 * resolves the parsed last line of its stdout. `timeoutMs` bounds a hung child; it is then killed.
 */
export function runChild(script, args = [], { job = null, nodeArgs = [], timeoutMs = 300_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeArgs, `${BENCH_DIR}${script}`, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (text) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text) => (stderr += text));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ status: "ERROR", error: `could not start ${script}: ${error.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
      if (line) {
        try {
          resolve(JSON.parse(line));
          return;
        } catch {
          // fall through to the error report below
        }
      }
      const why = timedOut ? `timed out after ${timeoutMs / 1000} s` : `exited with ${signal ?? code}`;
      resolve({ status: "ERROR", error: `${script} ${args.join(" ")} ${why}: ${stderr.trim().split("\n").slice(-3).join(" | ")}` });
    });
    // A child that does not read its stdin (peak, cold, alloc) may close it first: ignore EPIPE.
    child.stdin.on("error", () => {});
    child.stdin.end(job ? JSON.stringify(job) : "");
  });
}
