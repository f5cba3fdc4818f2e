/**
 * Starts moto (the AWS API emulator, pinned in scripts/tool-versions.env) on 127.0.0.1 on a free
 * port for the runtime tier. Never skips: without moto it fails with the command that installs it.
 *
 * `moto_server` is found via `ASC_MOTO_BIN` (the binary itself, or the directory holding it) or
 * in the cache `scripts/install-moto.sh` fills:
 * `${ASC_TOOLS_CACHE:-${XDG_CACHE_HOME:-~/.cache}/pulumi-asc-credential}/moto-venv-<MOTO_VERSION>/bin`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
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

/**
 * Waits until OUR moto answers on `endpoint`. Each probe carries a nonce; the server that
 * answers must return moto's state document (a JSON object) and the nonce must show up in our
 * child's request log (werkzeug logs every request to stderr). So a port taken by another
 * process between freePort() and moto's bind, even another moto, is never mistaken for ours.
 */
async function waitReady(endpoint: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let answeredBy: string | undefined;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited (${child.exitCode ?? child.signalCode}) before it was ready${answeredBy ? `; meanwhile ${endpoint} was answered by ${answeredBy}` : ""}:\n${output()}`);
    }
    const nonce = `asc-ready-${randomUUID()}`;
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json?probe=${nonce}`, { signal: AbortSignal.timeout(1000) });
      const body = await response.text();
      if (response.ok && isJsonObject(body)) {
        // The log line follows the response by a moment.
        for (let i = 0; i < 20 && child.exitCode === null; i++) {
          if (output().includes(nonce)) return;
          await new Promise((r) => setTimeout(r, 50));
        }
        answeredBy = `a server that is not this moto_server (Server: ${response.headers.get("server") ?? "none"})`;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms${answeredBy ? `; ${endpoint} was answered by ${answeredBy}` : ""}:\n${output()}`);
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** Options of {@link startMoto}. */
export interface StartMotoOptions {
  /** Per-attempt readiness timeout; default 30 s. */
  timeoutMs?: number;
  /** Picks the port of each attempt; default a free port from the OS. For tests. */
  pickPort?: () => Promise<number>;
  /** Attempts, each on a new port; default 3. */
  attempts?: number;
}

/** Starts moto on 127.0.0.1 and waits until it answers. Call `stop()` in `afterAll`. */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const { timeoutMs = 30_000, pickPort = freePort, attempts = 3 } = options;
  const binary = motoServerBinary();
  let lastError: unknown;
  // The port is free when picked but could be taken before moto binds it: try a few.
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = await pickPort();
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
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
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
