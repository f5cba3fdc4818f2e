/**
 * What every command shares: its view of the process (output, environment), the command shape,
 * and how a failure is printed. Nothing here prints key material: every message is the package's
 * own, and every value in it went through the redaction.
 * @packageDocumentation
 */
import type { ParseArgsConfig } from "node:util";
import { AscCredentialError, isAscCredentialError } from "../core/errors";
import { printable, redactKnown } from "../core/redact";
import { MAX_VAULT_SECRET_LENGTH, VAULT_TOKEN_VARIABLES } from "../core/vault-path";
import { fixFor } from "./fixes";

/** The process as a command sees it; tests pass their own. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Colour on stdout (a terminal, and neither NO_COLOR nor TERM=dumb). */
  colour: boolean;
}

/** The values `node:util` parseArgs gives a command. */
export type Values = Record<string, string | boolean | string[] | undefined>;

/** One subcommand: its flags, its help and its body. */
export interface Command {
  /** `asc-credential <name> --help`: synopsis, options and examples. */
  help: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Resolves to the exit code. */
  run(values: Values, io: Io): Promise<number>;
}

/** A command-line mistake: printed with the usage text, exit code 2. */
export class UsageError extends AscCredentialError {
  /** Marks it across bundles: each command's bundle has its own copy of this class. */
  readonly usage = true;
  constructor(message: string) {
    super("OPTION_INVALID", message);
  }
}

function isUsageError(error: unknown): error is UsageError {
  return isAscCredentialError(error) && (error as { usage?: unknown }).usage === true;
}

/**
 * The secrets of the environment that no message may show, wherever they were pasted: the Vault
 * token (`VAULT_TOKEN`, `BAO_TOKEN`). Readable ones (`my-dev-root-token`) pass every shape rule of
 * the redaction. Only those of 12 characters or more: a dev server's `root` is no secret, and is
 * part of many a path; and none too long to be a token (the Vault reader refuses it unsent).
 */
export function environmentSecrets(env: Io["env"]): string[] {
  return VAULT_TOKEN_VARIABLES.map((name) => env[name]).filter((value): value is string => typeof value === "string" && value.trim().length >= 12 && value.length <= MAX_VAULT_SECRET_LENGTH);
}

/** `text` redacted, and without any of the environment's secrets. */
export function scrubbed(text: string, io: Pick<Io, "env">): string {
  return printable(redactKnown(text, environmentSecrets(io.env)));
}

/** Prints a failure the way every command does, and returns its exit code (1, or 2 for usage). */
export function reportFailure(error: unknown, io: Io, usage: string): number {
  if (isUsageError(error)) {
    io.err(`asc-credential: ${scrubbed(error.message, io)}\n\n${usage}`);
    return 2;
  }
  if (isAscCredentialError(error)) {
    const fix = fixFor(error.code, error.field);
    io.err(`asc-credential: ${error.code}: ${scrubbed(error.message, io)}\n${fix ? `fix: ${fix}\n` : ""}`);
    return 1;
  }
  // Not ours: its message could quote input, so only that it happened is said.
  io.err("asc-credential: an unexpected internal error occurred (not a problem with the key); please report it.\n");
  return 1;
}

/** Quotes a value for a POSIX shell when it needs it. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
