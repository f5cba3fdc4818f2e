import { spawn } from "node:child_process";
import { resolve } from "node:path";
import type { KeyType } from "../core/identifiers";
import { shellQuote } from "./doctor";

/**
 * The Pulumi config keys examples/basic reads (`config.require("keyId")`,
 * `config.requireSecret("privateKey")`, ...) and passes to `AppStoreConnectApiKey`.
 */
export const CONFIG_KEYS = { keyId: "keyId", issuerId: "issuerId", keyType: "keyType", privateKey: "privateKey" } as const;

/** One `pulumi config set` call; `stdinFromKeyFile` means the value comes from the key file on stdin. */
export interface ConfigStep {
  args: string[];
  stdinFromKeyFile: boolean;
}

export function configSteps(c: { keyId: string; issuerId?: string; keyType: KeyType; stack?: string }): ConfigStep[] {
  const stack = c.stack !== undefined ? ["--stack", c.stack] : [];
  const steps: ConfigStep[] = [{ args: ["config", "set", ...stack, CONFIG_KEYS.keyId, c.keyId], stdinFromKeyFile: false }];
  if (c.keyType === "individual") steps.push({ args: ["config", "set", ...stack, CONFIG_KEYS.keyType, "individual"], stdinFromKeyFile: false });
  else if (c.issuerId !== undefined) steps.push({ args: ["config", "set", ...stack, CONFIG_KEYS.issuerId, c.issuerId], stdinFromKeyFile: false });
  // No value argument: `pulumi config set` then reads the value from stdin, so the key never
  // appears in argv, `ps` output or shell history.
  steps.push({ args: ["config", "set", ...stack, "--secret", CONFIG_KEYS.privateKey], stdinFromKeyFile: true });
  return steps;
}

/** The steps as shell commands; the key file is redirected to stdin. */
export function formatSteps(steps: ConfigStep[], keyFile: string): string {
  const lines = [
    "# Run in the Pulumi project directory. The private key is read from the file on stdin,",
    "# so it never appears in the command line or the shell history.",
    ...steps.map((step) => `pulumi ${step.args.map(shellQuote).join(" ")}${step.stdinFromKeyFile ? ` < ${shellQuote(resolve(keyFile))}` : ""}`),
  ];
  return lines.join("\n") + "\n";
}

/**
 * Runs the steps with `pulumi` from PATH, passing the key on stdin. Resolves to the first
 * failing exit code, or 0.
 */
export async function applySteps(steps: ConfigStep[], key: Uint8Array, log: (line: string) => void): Promise<number> {
  for (const step of steps) {
    const code = await new Promise<number>((done, fail) => {
      const child = spawn("pulumi", step.args, { stdio: [step.stdinFromKeyFile ? "pipe" : "ignore", "inherit", "inherit"] });
      child.once("error", fail);
      child.once("exit", (exitCode, signal) => done(exitCode ?? (signal ? 128 : 1)));
      if (step.stdinFromKeyFile) child.stdin?.end(Buffer.from(key));
    });
    const shown = `pulumi ${step.args.map(shellQuote).join(" ")}${step.stdinFromKeyFile ? " < (key file)" : ""}`;
    if (code !== 0) {
      log(`failed (exit ${code}): ${shown}`);
      return code;
    }
    log(`ran: ${shown}`);
  }
  return 0;
}
