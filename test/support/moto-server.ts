/**
 * Starts moto (the AWS API emulator, pinned in scripts/tool-versions.env) on 127.0.0.1 on a free
 * port for the runtime tier. Never skips: without moto it fails with the command that installs it.
 *
 * `moto_server` is found via `ASC_MOTO_BIN` (the binary itself, or the directory holding it) or
 * in the cache `scripts/install-moto.sh` fills:
 * `${ASC_TOOLS_CACHE:-${XDG_CACHE_HOME:-~/.cache}/pulumi-asc-credential}/moto-venv-<MOTO_VERSION>/bin`.
 */
import { randomUUID } from "node:crypto";
import { cachedToolBinary, pinnedVersion, spawnPiped, startLocalServer, type ReadyAnswer, type StartAttemptOptions } from "./local-server";

export interface MotoServer {
  /** `http://127.0.0.1:PORT`, for the AWS SDK's `endpoint`. */
  endpoint: string;
  stop(): Promise<void>;
}

export function motoVersion(): string {
  return pinnedVersion("MOTO_VERSION");
}

/** The `moto_server` binary, or throws with the fix. */
export function motoServerBinary(): string {
  return cachedToolBinary({
    overrideVariable: "ASC_MOTO_BIN",
    venv: `moto-venv-${motoVersion()}`,
    binary: "moto_server",
    fix: `The runtime tests need the moto AWS emulator: run scripts/install-moto.sh (it installs moto[server]==${motoVersion()} into a cached venv), or set ASC_MOTO_BIN to a moto_server binary.`,
  });
}

/**
 * Whether OUR moto answers on `endpoint`. Each probe carries a nonce; the server that answers
 * must return moto's state document (a JSON object) and the nonce must show up in our child's
 * request log (werkzeug logs every request to stderr). So a port taken by another process between
 * the pick and moto's bind, even another moto, is never mistaken for ours.
 */
async function isOurMoto(endpoint: string, output: () => string, running: () => boolean): Promise<ReadyAnswer> {
  const nonce = `asc-ready-${randomUUID()}`;
  const response = await fetch(`${endpoint}/moto-api/data.json?probe=${nonce}`, { signal: AbortSignal.timeout(1000) });
  const body = await response.text();
  if (!response.ok || !isJsonObject(body)) return { ours: false };
  // The log line follows the response by a moment.
  for (let i = 0; i < 20 && running(); i++) {
    if (output().includes(nonce)) return { ours: true };
    await new Promise((r) => setTimeout(r, 50));
  }
  return { ours: false, answeredBy: `a server that is not this moto_server (Server: ${response.headers.get("server") ?? "none"})` };
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** Starts moto on 127.0.0.1 and waits until it answers. Call `stop()` in `afterAll`. */
export async function startMoto(options: StartAttemptOptions = {}): Promise<MotoServer> {
  const binary = motoServerBinary();
  const server = await startLocalServer({
    name: "moto_server",
    ...options,
    launch: (port) => {
      const child = spawnPiped(binary, ["-H", "127.0.0.1", "-p", String(port)]);
      return { child, chosen: undefined, check: (url, output) => isOurMoto(url, output, () => child.exitCode === null) };
    },
  });
  return { endpoint: server.url, stop: () => server.stop() };
}
