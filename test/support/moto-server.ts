/**
 * Starts moto (the AWS API emulator, pinned in scripts/tool-versions.env) on 127.0.0.1 on a free
 * port for the runtime tier. Never skips: without moto it fails with the command that installs it.
 *
 * `moto_server` is found via `ASC_MOTO_BIN` (the binary itself, or the directory holding it) or
 * in the cache `scripts/install-moto.sh` fills:
 * `${ASC_TOOLS_CACHE:-${XDG_CACHE_HOME:-~/.cache}/pulumi-asc-credential}/moto-venv-<MOTO_VERSION>/bin`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export interface MotoServer {
  /** `http://127.0.0.1:PORT`, for the AWS SDK's `endpoint`. */
  endpoint: string;
  stop(): Promise<void>;
}

const repoRoot = resolve(__dirname, "..", "..");

export function motoVersion(): string {
  const env = readFileSync(join(repoRoot, "scripts", "tool-versions.env"), "utf8");
  const version = /^MOTO_VERSION=(\S+)/m.exec(env)?.[1];
  if (!version) throw new Error("scripts/tool-versions.env has no MOTO_VERSION line");
  return version;
}

/** The `moto_server` binary, or throws with the fix. */
export function motoServerBinary(): string {
  const override = process.env.ASC_MOTO_BIN;
  const cacheRoot = process.env.ASC_TOOLS_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "pulumi-asc-credential");
  const candidates = override
    ? [existsSync(override) && statSync(override).isDirectory() ? join(override, "moto_server") : override]
    : [join(cacheRoot, `moto-venv-${motoVersion()}`, "bin", "moto_server")];
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      `moto_server not found (looked at ${candidates.join(", ")}). The runtime tests need the moto AWS emulator: run scripts/install-moto.sh (it installs moto[server]==${motoVersion()} into a cached venv), or set ASC_MOTO_BIN to a moto_server binary.`,
    );
  }
  return found;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function waitReady(endpoint: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode} before it was ready:\n${output()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms:\n${output()}`);
}

/** Starts moto on 127.0.0.1 and waits until it answers. Call `stop()` in `afterAll`. */
export async function startMoto(timeoutMs = 30_000): Promise<MotoServer> {
  const binary = motoServerBinary();
  let lastError: unknown;
  // The port is free when picked but could be taken before moto binds it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = spawn(binary, ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    const keep = (chunk: Buffer): void => {
      log = (log + chunk.toString()).slice(-4000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    try {
      await waitReady(endpoint, child, () => log, timeoutMs);
    } catch (error) {
      lastError = error;
      child.kill("SIGKILL");
      await exited;
      continue;
    }
    return {
      endpoint,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      },
    };
  }
  throw lastError;
}
