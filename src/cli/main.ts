#!/usr/bin/env node
/**
 * `asc-credential`: checks, fingerprints, exports and uses an App Store Connect API key from the
 * command line. This file only dispatches: each command's code loads when it runs, so a quick
 * command starts as fast as a hand-written script. Exit codes: 0 success (doctor: all checks
 * pass), 1 a check or the command failed, 2 usage error. Output never contains key material;
 * only `token` prints a token, by design.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { redact } from "../core/redact";
import { reportFailure, UsageError, type Command, type Io, type Values } from "./io";

/** Each command: one line for the overview, and its module, required on first use. */
const COMMANDS = {
  doctor: { summary: "check a key and its identifiers; print each finding with its fix", load: () => (require("./commands/doctor") as typeof import("./commands/doctor")).command },
  token: { summary: "print one JWT for the App Store Connect API (for curl)", load: () => (require("./commands/token") as typeof import("./commands/token")).command },
  fingerprint: { summary: "print the key's fingerprint (compare with `pulumi stack output fingerprint`)", load: () => (require("./commands/fingerprint") as typeof import("./commands/fingerprint")).command },
  config: { summary: "print (or --apply) the `pulumi config set --secret` commands for the key", load: () => (require("./commands/config") as typeof import("./commands/config")).command },
  export: { summary: "write the key for fastlane, Xcode, codemagic, EAS or GitHub Actions", load: () => (require("./commands/export") as typeof import("./commands/export")).command },
} satisfies Record<string, { summary: string; load: () => Command }>;

const USAGE = `Usage: asc-credential <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`)
  .join("\n")}

Run \`asc-credential <command> --help\` for its options. Without a key option, every command reads
the key from the environment (this package's, fastlane's, codemagic's, EAS's or the asc CLI's
variables) or finds AuthKey_<KEYID>.p8 in altool's directories.

  --version    print the package version
  --help       print this text

Exit codes: 0 ok, 1 a check or the command failed, 2 usage error.
`;

const PEM_ARGUMENT =
  "an argument holds a private key's text, where a path or a name belongs. Keys never go on the command line (other users see it in the process list, and the shell history keeps it): pass the file (--key AuthKey_<KEYID>.p8), pipe it (--key - < AuthKey_<KEYID>.p8), or name the variable that holds it (--key-env VAR).";

/** The package version, from package.json two levels up (dist/cli or src/cli alike). */
function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Runs the CLI and resolves to its exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) return reportFailure(new UsageError("no command given"), io, USAGE);
  if (name === "help" || name === "--help" || name === "-h") {
    io.out(USAGE);
    return 0;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    io.out(`${version()}\n`);
    return 0;
  }
  // Object.hasOwn, not `in`: inherited names (toString, constructor, __proto__) are not commands.
  if (!Object.hasOwn(COMMANDS, name)) return reportFailure(new UsageError(`unknown command '${redact(name).slice(0, 40)}'`), io, USAGE);
  const command = COMMANDS[name as keyof typeof COMMANDS].load();
  const usage = command.help;
  let values: Values;
  try {
    values = parseArgs({ args: rest, options: command.options, strict: true, allowPositionals: false }).values as Values;
  } catch (error) {
    // `--key "$(cat AuthKey_….p8)"`: parseArgs calls the PEM's leading dashes an ambiguous option
    // and suggests `--key=-…`, which would keep the key in argv.
    if (rest.some((arg) => /-----BEGIN|BEGIN [A-Z ]*PRIVATE KEY/.test(arg))) {
      return reportFailure(new UsageError(PEM_ARGUMENT), io, usage);
    }
    // parseArgs quotes the offending argument, which may be a pasted key.
    // Its text spans lines; joined into one, so the argument's own line breaks are the only
    // control characters left for reportFailure to neutralise.
    return reportFailure(new UsageError(redact(error instanceof Error ? error.message : "invalid arguments").replace(/\s*\n\s*/g, " ")), io, usage);
  }
  if (values.help) {
    io.out(usage);
    return 0;
  }
  try {
    return await command.run(values, io);
  } catch (error) {
    return reportFailure(error, io, usage);
  }
}

if (require.main === module) {
  const colour = process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";
  // A stdout that cannot take the output (a full disk, a closed pipe) fails the command: a
  // script must not read "exit 0" as "the token, the paths, the variables are there".
  let outputError: unknown;
  process.stdout.on("error", (error) => (outputError ??= error));
  void main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    colour,
  }).then((code) => {
    // Explicitly: a read abandoned at its timeout (a FIFO nobody writes to) must not keep the process alive.
    process.stdout.write("", (error) => {
      const failed = outputError ?? error;
      if (failed === undefined || failed === null) process.exit(code);
      const name = (failed as { code?: unknown }).code;
      process.stderr.write(`asc-credential: the output could not be written (${typeof name === "string" && /^E[A-Z]{2,12}$/.test(name) ? name : "an error"}), so it is missing or incomplete.\n`, () => process.exit(code === 0 ? 1 : code));
    });
  });
}
