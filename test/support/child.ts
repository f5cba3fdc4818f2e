/**
 * The one way tests run another program: its exit status, signal, stdout and stderr, never a
 * throw for a non-zero exit, and a kill at `timeoutMs` so no test waits forever.
 */
import { execFile, spawnSync } from "node:child_process";

export interface ChildResult {
  /** The exit code; -1 when the program was killed or could not start. */
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started (ENOENT, EACCES). */
  startError?: string;
}

export interface ChildOptions {
  cwd?: string;
  /** The whole environment of the child (not merged with this process's). Default: this process's. */
  env?: Record<string, string | undefined>;
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer;
  /** Default 60 s. */
  timeoutMs?: number;
}

const MAX_BUFFER = 64 * 1024 * 1024;

/** Runs `command` with `args`. */
export function run(command: string, args: string[], options: ChildOptions = {}): Promise<ChildResult> {
  return new Promise((done) => {
    const child = execFile(command, args, { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: MAX_BUFFER, encoding: "utf8" }, (error, stdout, stderr) => {
      const e = error as (Error & { code?: unknown; signal?: NodeJS.Signals | null }) | null;
      const startError = typeof e?.code === "string" ? e.code : undefined;
      done({ code: e ? (typeof e.code === "number" ? e.code : -1) : 0, signal: e?.signal ?? null, stdout, stderr, ...(startError ? { startError } : {}) });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** Runs this process's `node` with `args` (a script path or `-e code`, then arguments). */
export function runNode(args: string[], options: ChildOptions = {}): Promise<ChildResult> {
  return run(process.execPath, args, options);
}

/** {@link run}, synchronously: for harness code that cannot await (jest global setup, sync helpers). */
export function runSync(command: string, args: string[], options: ChildOptions = {}): ChildResult {
  const result = spawnSync(command, args, { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: MAX_BUFFER, encoding: "utf8", ...(options.input !== undefined ? { input: options.input } : {}) });
  const startError = (result.error as { code?: unknown } | undefined)?.code;
  return {
    code: result.status ?? -1,
    signal: result.signal ?? null,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? "",
    ...(typeof startError === "string" ? { startError } : {}),
  };
}

/** The result as an Error's text, for a failure that must explain itself. */
export function describeFailure(what: string, result: ChildResult): string {
  return `${what} failed (exit ${result.code}${result.signal ? `, signal ${result.signal}` : ""}${result.startError ? `, ${result.startError}` : ""}):\n${result.stderr.slice(-4000)}\n${result.stdout.slice(-2000)}`;
}
