/**
 * Runs the built CLI (dist/cli/main.js, what the `asc-credential` bin points at) as a child
 * process.
 */
import { join } from "node:path";
import { assertFreshBuild, DIST } from "../support/built-package";
import { runNode } from "../support/child";

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

/** Runs the built CLI with exactly `env` (plus PATH) as its environment, `input` on stdin. */
export async function runCli(args: string[], env: Record<string, string> = {}, options: { input?: string; cwd?: string } = {}): Promise<CliResult> {
  const { code, stdout, stderr } = await runNode([CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, timeoutMs: 30_000, ...options });
  return { code, stdout, stderr };
}
