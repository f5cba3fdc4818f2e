#!/usr/bin/env node
/**
 * `asc-credential`: checks, fingerprints and uses an App Store Connect API key from the command
 * line. Exit codes: 0 success (doctor: all checks pass), 1 a check or the command failed,
 * 2 usage error. Output never contains key material; only `token` prints a token, by design.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { AscCredentialError, isAscCredentialError } from "../core/errors";
import { parsePrivateKey } from "../core/private-key";
import { createToken } from "../core/token";
import { validateCredential } from "../core/validate";
import { applySteps, configSteps, formatSteps } from "./config-command";
import { resolveKey, UsageError, type KeyArgs, type ResolvedKey } from "./credential-args";
import { formatDoctor, runDoctor } from "./doctor";
import { FIXES } from "./fixes";

const USAGE = `Usage: asc-credential <command> [options]

Commands:
  doctor       check a key and its identifiers; print each finding with its fix
  token        print one JWT for the App Store Connect API (for curl)
  fingerprint  print the key's fingerprint (compare with \`pulumi stack output fingerprint\`)
  config       print (or --apply) the \`pulumi config set --secret\` commands for the key

Key options (every command):
  --key FILE         the AuthKey_<KEYID>.p8 file (key ID inferred from its name)
  --key-env VAR      read the key from environment variable VAR (PEM, PEM with \\n, base64)
  --key-id ID        the 10-character Key ID (default: from the file name)
  --issuer-id UUID   the team's Issuer ID (team keys)
  --individual       an individual key (no issuer ID)
  Without --key/--key-env, APP_STORE_CONNECT_PRIVATE_KEY or _PRIVATE_KEY_PATH is used, and
  APP_STORE_CONNECT_KEY_ID / _ISSUER_ID fill in missing IDs.

doctor:      [--online] [--base-url URL] [--json]
token:       [--lifetime SECONDS] [--scope "GET /v1/apps"]...
config:      --key FILE [--stack STACK] [--apply]

Exit codes: 0 ok, 1 a check or the command failed, 2 usage error.
`;

const KEY_OPTIONS = {
  key: { type: "string" },
  "key-env": { type: "string" },
  "key-id": { type: "string" },
  "issuer-id": { type: "string" },
  individual: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

const COMMANDS = {
  doctor: { ...KEY_OPTIONS, online: { type: "boolean" }, "base-url": { type: "string" }, json: { type: "boolean" } },
  token: { ...KEY_OPTIONS, lifetime: { type: "string" }, scope: { type: "string", multiple: true } },
  fingerprint: KEY_OPTIONS,
  config: { ...KEY_OPTIONS, stack: { type: "string" }, apply: { type: "boolean" } },
} as const satisfies Record<string, ParseArgsConfig["options"]>;

type Values = KeyArgs & { help?: boolean; online?: boolean; "base-url"?: string; json?: boolean; lifetime?: string; scope?: string[]; stack?: string; apply?: boolean };

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  colour: boolean;
}

/** Runs the CLI and resolves to its exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) return usage(io, "no command given");
  if (command === "help" || command === "--help" || command === "-h") {
    io.out(USAGE);
    return 0;
  }
  // Object.hasOwn, not `in`: inherited names (toString, constructor, __proto__) are not commands.
  if (!Object.hasOwn(COMMANDS, command)) return usage(io, `unknown command '${command.slice(0, 40)}'`);
  let values: Values;
  try {
    values = parseArgs({ args: rest, options: COMMANDS[command as keyof typeof COMMANDS], strict: true, allowPositionals: false }).values as Values;
  } catch (error) {
    // parseArgs messages quote the offending argument; a key pasted as an argument must not be echoed.
    return usage(io, redactArgv((error as Error).message, rest));
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  try {
    switch (command) {
      case "doctor":
        return await doctor(values, io);
      case "token":
        return await token(values, io);
      case "fingerprint":
        return fingerprint(values, io);
      default:
        return await config(values, io);
    }
  } catch (error) {
    if (error instanceof UsageError) return usage(io, error.message);
    if (isAscCredentialError(error)) {
      io.err(`asc-credential: ${error.code}: ${error.message}\n${FIXES[error.code] ? `fix: ${FIXES[error.code]}\n` : ""}`);
      return 1;
    }
    // Unexpected errors: the name only, since a message could quote input.
    io.err(`asc-credential: unexpected ${(error as Error)?.name ?? "error"}; please report it.\n`);
    return 1;
  }
}

function usage(io: Io, message: string): number {
  io.err(`asc-credential: ${message}\n\n${USAGE}`);
  return 2;
}

function redactArgv(message: string, args: string[]): string {
  let redacted = message;
  for (const arg of args) if (arg.length > 24) redacted = redacted.split(arg).join(`<${arg.length} characters>`);
  return redacted;
}

async function doctor(values: Values, io: Io): Promise<number> {
  if (values["base-url"] !== undefined && !/^https?:\/\/\S+$/.test(values["base-url"])) throw new UsageError("--base-url must be an http(s) URL");
  const key = resolveKey(values, io.env);
  const report = await runDoctor(key, { online: values.online === true, ...(values["base-url"] !== undefined ? { baseUrl: values["base-url"] } : {}) });
  io.out(values.json ? JSON.stringify(report, null, 2) + "\n" : formatDoctor(report, io.colour));
  return report.ok ? 0 : 1;
}

/** Reads and validates the credential, throwing the first problem as an AscCredentialError. */
function credentialFrom(key: ResolvedKey): { keyId: string; issuerId?: string; keyType: ResolvedKey["keyType"]; privateKey: Uint8Array; pem: string } {
  assertReadable(key);
  const input = {
    keyId: key.keyId ?? "",
    privateKey: key.bytes,
    keyType: key.keyType,
    ...(key.issuerId !== undefined ? { issuerId: key.issuerId } : {}),
    ...(key.source.kind === "file" ? { privateKeyFileName: key.source.path } : {}),
  };
  const result = validateCredential(input);
  const first = result.issues[0];
  if (first || !result.key) {
    const message = key.keyId === undefined && first?.field === "keyId" ? "no key ID: pass --key-id, or name the file AuthKey_<KEYID>.p8" : (first?.message ?? "the key could not be read");
    throw new AscCredentialError(first?.code ?? "KEY_MALFORMED", message, first?.field);
  }
  return { ...input, pem: result.key.pem };
}

function assertReadable(key: ResolvedKey): asserts key is ResolvedKey & { bytes: Uint8Array } {
  if (key.readProblem) throw new AscCredentialError(key.readProblem.code, `${key.readProblem.message}; ${key.readProblem.fix}.`, "privateKey");
}

async function token(values: Values, io: Io): Promise<number> {
  if (values.lifetime !== undefined && !/^\d+$/.test(values.lifetime)) throw new UsageError("--lifetime must be a whole number of seconds (1 to 1200)");
  const credential = credentialFrom(resolveKey(values, io.env));
  const jwt = await createToken(credential, {
    ...(values.lifetime !== undefined ? { lifetimeSeconds: Number(values.lifetime) } : {}),
    ...(values.scope !== undefined ? { scope: values.scope } : {}),
  });
  io.out(jwt + "\n");
  return 0;
}

function fingerprint(values: Values, io: Io): number {
  const key = resolveKey(values, io.env);
  assertReadable(key);
  io.out(parsePrivateKey(key.bytes).fingerprint + "\n");
  return 0;
}

async function config(values: Values, io: Io): Promise<number> {
  if (values.key === undefined) throw new UsageError("config needs --key FILE: the key is read from the file so it never lands in shell history");
  const key = resolveKey(values, io.env);
  const credential = credentialFrom(key);
  const steps = configSteps({ ...credential, ...(values.stack !== undefined ? { stack: values.stack } : {}) });
  if (!values.apply) {
    io.out(formatSteps(steps, values.key));
    return 0;
  }
  try {
    return (await applySteps(steps, Buffer.from(credential.pem), (line) => io.err(line + "\n"))) === 0 ? 0 : 1;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    io.err(`asc-credential: could not run pulumi (${typeof code === "string" ? code : "error"}). Install the Pulumi CLI and put it on PATH, or run the printed commands (without --apply) yourself.\n`);
    return 1;
  }
}

if (require.main === module) {
  const colour = process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";
  void main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    colour,
  }).then((code) => {
    process.exitCode = code;
  });
}
