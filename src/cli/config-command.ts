import { spawn } from "node:child_process";
import { resolve } from "node:path";
import type { KeyType } from "../core/identifiers";
import { shellQuote } from "./io";

/**
 * The Pulumi config keys the examples read (`config.require("keyId")`,
 * `config.requireSecret("privateKey")`, ...); with a prefix, `ciKeyId`, `ciPrivateKey`, ... as in
 * examples/per-integration (the Issuer ID, one per team, stays `issuerId`).
 */
export function configKeys(prefix = ""): { keyId: string; issuerId: string; keyType: string; privateKey: string } {
  const named = (name: string): string => (prefix === "" ? name : `${prefix}${name[0]!.toUpperCase()}${name.slice(1)}`);
  return { keyId: named("keyId"), issuerId: "issuerId", keyType: named("keyType"), privateKey: named("privateKey") };
}

/** One `pulumi config set` call; `keyOnStdin` means the value is the key, on stdin. */
export interface ConfigStep {
  args: string[];
  keyOnStdin: boolean;
}

export function configSteps(c: { keyId: string; issuerId?: string; keyType: KeyType; stack?: string; prefix?: string }): ConfigStep[] {
  const keys = configKeys(c.prefix);
  const stack = c.stack !== undefined ? ["--stack", c.stack] : [];
  const steps: ConfigStep[] = [{ args: ["config", "set", ...stack, keys.keyId, c.keyId], keyOnStdin: false }];
  if (c.keyType === "individual") steps.push({ args: ["config", "set", ...stack, keys.keyType, "individual"], keyOnStdin: false });
  else if (c.issuerId !== undefined) steps.push({ args: ["config", "set", ...stack, keys.issuerId, c.issuerId], keyOnStdin: false });
  // No value argument: `pulumi config set` then reads the value from stdin, so the key never
  // appears in argv, `ps` output or shell history.
  steps.push({ args: ["config", "set", ...stack, "--secret", keys.privateKey], keyOnStdin: true });
  return steps;
}

/** Where the printed commands take the key from: a file redirected to stdin, or a variable piped in. */
export type KeyInput = { file: string } | { variable: string };

/** The steps as shell commands, the key reaching `pulumi` on stdin only. */
export function formatSteps(steps: ConfigStep[], input: KeyInput): string {
  const command = (step: ConfigStep): string => {
    const line = `pulumi ${step.args.map(shellQuote).join(" ")}`;
    if (!step.keyOnStdin) return line;
    return "file" in input ? `${line} < ${shellQuote(resolve(input.file))}` : `printenv ${shellQuote(input.variable)} | ${line}`;
  };
  return ["# Run in the Pulumi project directory. The private key reaches pulumi on stdin, so it never", "# appears in the command line or the shell history.", ...steps.map(command)].join("\n") + "\n";
}

/**
 * Runs the steps with `pulumi` from PATH, passing the key on stdin. Resolves to the first
 * failing exit code, or 0.
 */
export async function applySteps(steps: ConfigStep[], key: Uint8Array, log: (line: string) => void): Promise<number> {
  for (const step of steps) {
    const code = await new Promise<number>((done, fail) => {
      const child = spawn("pulumi", step.args, { stdio: [step.keyOnStdin ? "pipe" : "ignore", "inherit", "inherit"] });
      child.once("error", fail);
      child.once("exit", (exitCode, signal) => done(exitCode ?? (signal ? 128 : 1)));
      if (step.keyOnStdin) child.stdin?.end(Buffer.from(key));
    });
    const shown = `pulumi ${step.args.map(shellQuote).join(" ")}${step.keyOnStdin ? " < (key file)" : ""}`;
    if (code !== 0) {
      log(`failed (exit ${code}): ${shown}`);
      return code;
    }
    log(`ran: ${shown}`);
  }
  return 0;
}
