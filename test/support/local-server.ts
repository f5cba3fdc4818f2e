/**
 * What the test servers (moto, OpenBao) share: finding the pinned tool in the cache its
 * `scripts/install-*.sh` fills, a free port on 127.0.0.1, and starting the server as a child that
 * is proven to be ours before it is used, with a few attempts on new ports. Also what the
 * in-process stand-in servers share: listening on 127.0.0.1 and closing with their connections.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

const repoRoot = resolve(__dirname, "..", "..");

/** A version pinned in scripts/tool-versions.env (`NAME=version`). */
export function pinnedVersion(name: string): string {
  const env = readFileSync(join(repoRoot, "scripts", "tool-versions.env"), "utf8");
  const version = new RegExp(`^${name}=(\\S+)`, "m").exec(env)?.[1];
  if (!version) throw new Error(`scripts/tool-versions.env has no ${name} line`);
  return version;
}

/** How to find one cached tool, and what to say when it is missing. */
export interface CachedTool {
  /** The variable that overrides the lookup: the binary itself, or the directory holding it. */
  overrideVariable: string;
  /** The venv's folder in the cache, e.g. `moto-venv-5.2.5`. */
  venv: string;
  /** The binary's file name in the venv's `bin`. */
  binary: string;
  /** The sentence after "not found (looked at …).": what needs it and how to install it. */
  fix: string;
}

/** The tool's binary, or throws with the fix. */
export function cachedToolBinary(tool: CachedTool): string {
  const override = process.env[tool.overrideVariable];
  const cacheRoot = process.env.ASC_TOOLS_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "pulumi-asc-credential");
  const candidates = override
    ? [existsSync(override) && statSync(override).isDirectory() ? join(override, tool.binary) : override]
    : [join(cacheRoot, tool.venv, "bin", tool.binary)];
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`${tool.binary} not found (looked at ${candidates.join(", ")}). ${tool.fix}`);
  return found;
}

/** A port that was free on 127.0.0.1 when asked (another process may take it before the bind). */
export function freePort(): Promise<number> {
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

/** Listens on a free port of 127.0.0.1; resolves with the base URL and a close that also ends kept-alive connections. */
export async function listenOnLoopback(server: HttpServer): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A started server: its child, its base URL, what its launch chose, and a stop that always ends it. */
export interface LocalServer<T> {
  child: ChildProcess;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** What the attempt that succeeded chose (a root token, say). */
  chosen: T;
  stop(): Promise<void>;
}

/** One attempt's server: the child, how to tell it answers as itself, and what it was given. */
export interface Launched<T> {
  child: ChildProcess;
  /**
   * One readiness check of `url`: `ours` only when the answer proves it is this child (a nonce in
   * its log, a secret only it was given); else who answered, if anyone did.
   */
  check(url: string, output: () => string): Promise<ReadyAnswer>;
  chosen: T;
}

/** What a server answered to one readiness check. */
export type ReadyAnswer = { ours: true } | { ours: false; answeredBy?: string };

/** Options of {@link startLocalServer}. */
export interface StartLocalServerOptions<T> {
  /** Named in errors, e.g. `moto_server`. */
  name: string;
  /** Spawns the server on `port` (anew for every attempt, so per-attempt secrets are fresh). */
  launch(port: number): Launched<T>;
  /** Per-attempt readiness timeout; default 30 s. */
  timeoutMs?: number;
  /** Picks the port of each attempt; default {@link freePort}. For tests. */
  pickPort?: () => Promise<number>;
  /** Attempts, each on a new port; default 3. */
  attempts?: number;
}

/** What a caller of a server's start may tune: the attempts, not the launch. */
export type StartAttemptOptions = Pick<StartLocalServerOptions<unknown>, "timeoutMs" | "pickPort" | "attempts">;

/**
 * Starts the server and waits until it answers as ours; a port taken between the pick and the
 * bind (even by the same kind of server) fails that attempt, and the next one uses a new port.
 * @throws the last attempt's error, with the tail of the child's output.
 */
export async function startLocalServer<T>(options: StartLocalServerOptions<T>): Promise<LocalServer<T>> {
  const { name, timeoutMs = 30_000, pickPort = freePort, attempts = 3 } = options;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = await pickPort();
    const url = `http://127.0.0.1:${port}`;
    const { child, check, chosen } = options.launch(port);
    let log = "";
    const keep = (chunk: Buffer): void => {
      // Only the tail, and only shown on failure (OpenBao's dev server prints its unseal key).
      log = (log + chunk.toString()).slice(-4000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    try {
      await waitReady(name, url, child, () => log, timeoutMs, check);
    } catch (error) {
      lastError = error;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
      continue;
    }
    return {
      child,
      url,
      chosen,
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

async function waitReady(name: string, url: string, child: ChildProcess, output: () => string, timeoutMs: number, check: Launched<unknown>["check"]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let answeredBy: string | undefined;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready${answeredBy ? `; meanwhile ${url} was answered by ${answeredBy}` : ""}:\n${output()}`);
    }
    try {
      const answer = await check(url, output);
      if (answer.ours) return;
      if (answer.answeredBy) answeredBy = answer.answeredBy;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer on ${url} within ${timeoutMs} ms${answeredBy ? `; ${url} was answered by ${answeredBy}` : ""}:\n${output()}`);
}

/** Spawns `binary` with piped output (for the log tail) and no stdin. */
export function spawnPiped(binary: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  return spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], ...(env ? { env } : {}) });
}
