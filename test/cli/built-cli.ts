/**
 * Runs the built CLI (dist/cli/main.js, what the `asc-credential` bin points at) as a child
 * process.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { assertFreshBuild, DIST } from "../support/built-package";

export const CLI = join(DIST, "cli", "main.js");

/** Fails with the fix when dist/ is missing or older than src/. */
export function ensureBuilt(): void {
  assertFreshBuild();
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with exactly `env` (plus PATH) as its environment. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}
