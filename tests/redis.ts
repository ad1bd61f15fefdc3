/**
 * A real redis-server for the queue tests: started on a free port of 127.0.0.1 in a temporary directory,
 * without persistence unless asked (appendonly for the restart test), and stopped at the end, on exit and
 * on SIGTERM / SIGINT (a child redis-server would otherwise outlive a killed test process).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Whether a redis-server binary is on PATH. */
export function hasRedis(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/** A free TCP port on 127.0.0.1 (asked of the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
function killAll(): void {
  for (const child of live) child.kill("SIGKILL");
}
process.once("exit", killAll);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(128 + (signal === "SIGTERM" ? 15 : 2));
  });
}

/** Kills a child process with everything else at exit (workers too). */
export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** One redis-server; restart() stops it (flushing the append-only file when on) and starts it again on the same port and dir. */
export class RedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), "mlpgrad-redis-"));
  private child?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly appendOnly: boolean,
  ) {}

  /** Starts a server and waits until it answers. */
  static async start(appendOnly = false): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), appendOnly);
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir, "--save", "", "--daemonize", "no", "--logfile", ""];
    args.push("--appendonly", this.appendOnly ? "yes" : "no");
    if (this.appendOnly) args.push("--appendfsync", "always");
    const child = track(spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] }));
    this.child = child;
    let log = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${log}`)), 10_000);
      const onData = (chunk: Buffer): void => {
        log += chunk;
        if (/Ready to accept connections/.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${log}`));
      });
    });
    child.stdout!.resume();
    child.stderr!.resume();
  }

  /** Stops the server with SIGTERM (Redis then fsyncs its append-only file) and waits for the exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  }

  /** stop() then start again on the same port and directory. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops the server and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
