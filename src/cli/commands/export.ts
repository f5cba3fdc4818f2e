import { closeSync, constants, existsSync, fstatSync, ftruncateSync, lstatSync, openSync, writeSync } from "node:fs";
import { userInfo } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { AscCredentialError } from "../../core/errors";
import { quote, redact } from "../../core/redact";
import { preparePrivateDirectory, writePrivateFiles } from "../../runtime/write-key-file";
import { credentialFromFlags, KEY_HELP, KEY_OPTIONS } from "../credential-options";
import { EXPORT_FORMATS, planExport, type ExportFormat } from "../export-formats";
import { UsageError, type Command, type Io } from "../io";

/** `asc-credential export`: the key as the files and variables a tool expects. */
export const command: Command = {
  help: `Usage: asc-credential export --format FORMAT [key options] [--out DIR] [--force]

Writes the key where a tool expects it (files 0600 in a 0700 directory, written atomically) and
prints how to point the tool at it. Nothing of the key reaches stdout or stderr.

Formats:
  fastlane   DIR/AuthKey_<KEYID>.p8 and DIR/api_key.json (fastlane's api_key_path); prints the JSON's path
  xcode      DIR/private_keys/AuthKey_<KEYID>.p8; prints xcodebuild and notarytool arguments and
             API_PRIVATE_KEYS_DIR for altool
  env        DIR/AuthKey_<KEYID>.p8; prints \`export NAME=value\` lines for this package, fastlane,
             codemagic, EAS, the asc CLI and altool (paths and identifiers only)
  dotenv     the same variables into DIR/.env; prints its path
  github     the same variables into $GITHUB_ENV, the key under $RUNNER_TEMP/asc-credential

  --out DIR    where the files go (default ~/.appstoreconnect/private_keys, or ~/.appstoreconnect
               for xcode, or $RUNNER_TEMP/asc-credential for github); created 0700 if missing
  --force      replace a file that holds another key
Exit codes: 0 written, 1 the key or the output is not right (nothing is left behind), 2 usage error.

${KEY_HELP}
Examples:
  asc-credential export --format github --secret-id app-store-connect/ci
  VAULT_ADDR=https://vault.example.com:8200 asc-credential export --format fastlane --vault-path app-store-connect/ci
  eval "$(asc-credential export --format env --key-env ASC_KEY --key-id 2X9R4HXF34 --issuer-id <UUID>)"
  fastlane pilot upload --api_key_path "$(asc-credential export --format fastlane --secret-id app-store-connect/ci)"
`,
  options: { ...KEY_OPTIONS, format: { type: "string" }, out: { type: "string" }, force: { type: "boolean" } },
  async run(values, io) {
    const format = values.format;
    if (typeof format !== "string" || !(EXPORT_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(", ")}${typeof format === "string" ? `, not '${redact(format).slice(0, 20)}'` : ""}`);
    }
    const githubEnv = format === "github" ? openGithubEnv(io) : undefined;
    try {
      const directory = outputDirectory(format as ExportFormat, values.out, io);
      const credential = await credentialFromFlags(values, io);
      const plan = planExport(format as ExportFormat, credential, directory);
      // xcode writes into DIR/private_keys. An --out DIR that is missing is created like any other
      // format's (its parent must exist): creating the whole chain would hide a mistyped path.
      if (format === "xcode" && values.out !== undefined && !existsSync(directory)) preparePrivateDirectory(directory, false);
      const written = writePrivateFiles(plan.keyDirectory, plan.files, { force: values.force === true, createParents: values.out === undefined });
      if (githubEnv !== undefined && plan.githubEnv !== undefined) {
        appendAll(githubEnv, plan.githubEnv);
      }
      const unchanged = written.filter((file) => !file.written).map((file) => file.path);
      if (unchanged.length > 0) io.err(`asc-credential: unchanged (already this key): ${unchanged.join(", ")}\n`);
      io.out(plan.stdout);
      return 0;
    } finally {
      if (githubEnv !== undefined) closeSync(githubEnv.fd);
    }
  },
};

/**
 * `$GITHUB_ENV`, which must exist as a file (a github export without it would write nowhere),
 * opened for appending before any key file is written: one that cannot take the variables fails
 * the export while nothing is on disk yet, and the file checked is the file written.
 */
function openGithubEnv(io: Io): { path: string; fd: number } {
  const path = io.env.GITHUB_ENV;
  if (path === undefined || path.trim() === "") {
    throw new AscCredentialError("OUTPUT_INVALID", "Output: --format github writes to $GITHUB_ENV, which is not set: run it in a GitHub Actions step (the runner sets it), or use --format env or dotenv elsewhere.", "GITHUB_ENV");
  }
  plainPath(path, "GITHUB_ENV");
  try {
    if (!lstatSync(path).isFile()) throw new Error("not a file");
  } catch {
    throw new AscCredentialError("OUTPUT_INVALID", `Output: GITHUB_ENV ${quote(path)} is not an existing file. It is the runner's file for the next steps' environment; run this in a GitHub Actions step.`, "GITHUB_ENV");
  }
  let fd: number | undefined;
  try {
    fd = openSync(path, GITHUB_ENV_FLAGS);
    if (!fstatSync(fd).isFile()) throw new Error("not a file");
    return { path, fd };
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    throw new AscCredentialError("OUTPUT_INVALID", `Output: GITHUB_ENV ${quote(path)} cannot be written (${(error as { code?: string }).code ?? "not a regular file"}). It is the runner's file for the next steps' environment; run this in a GitHub Actions step.`, "GITHUB_ENV");
  }
}

/**
 * Appends every byte of `lines`, or none: a short write (a full disk, a file size limit) is
 * continued, and a write that fails takes the file back to its size before, so no half line
 * is left for the runner to read.
 */
function appendAll(githubEnv: { path: string; fd: number }, lines: string): void {
  const bytes = Buffer.from(lines);
  const before = fstatSync(githubEnv.fd).size;
  try {
    for (let done = 0; done < bytes.length; ) {
      const count = writeSync(githubEnv.fd, bytes, done);
      if (count <= 0) throw Object.assign(new Error("no progress"), { code: "EIO" });
      done += count;
    }
  } catch (error) {
    try {
      ftruncateSync(githubEnv.fd, before);
    } catch {
      // The error below is the one to report.
    }
    throw new AscCredentialError("OUTPUT_INVALID", `Output: GITHUB_ENV ${quote(githubEnv.path)} could not be written (${(error as { code?: string }).code ?? "error"}). Run this in a GitHub Actions step, where the runner provides it.`, "GITHUB_ENV");
  }
}

/** Append to the existing file only: never create it, never follow a symbolic link, never block on a FIFO. */
const GITHUB_ENV_FLAGS = constants.O_WRONLY | constants.O_APPEND | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

function outputDirectory(format: ExportFormat, out: unknown, io: Io): string {
  if (typeof out === "string") {
    // `--out "$DIR"` with DIR unset would otherwise mean the working directory.
    if (out.trim() === "") throw new UsageError("--out needs a directory; it was empty (an unset variable?)");
    // The resolved path is checked too: a relative --out takes on the working directory, whose
    // name (a newline in it) must not reach a GITHUB_ENV or .env line.
    return plainPath(resolve(plainPath(out, "--out")), "--out");
  }
  if (format === "github") {
    const temp = io.env.RUNNER_TEMP;
    if (temp === undefined || temp.trim() === "") {
      throw new AscCredentialError("OUTPUT_INVALID", "Output: --format github puts the key under $RUNNER_TEMP, which is not set: run it in a GitHub Actions step, or pass --out DIR.", "RUNNER_TEMP");
    }
    // Absolute, so the path in GITHUB_ENV holds in later steps with another working directory.
    return plainPath(resolve(plainPath(temp, "RUNNER_TEMP"), "asc-credential"), "RUNNER_TEMP");
  }
  const home = plainPath(homeDirectory(io), "HOME");
  return format === "xcode" ? join(home, ".appstoreconnect") : join(home, ".appstoreconnect", "private_keys");
}

/**
 * `$HOME`, or the account's home when it is unset. A HOME that is empty or relative would put the
 * key under the working directory (a checkout, a build artifact), so it is refused.
 */
function homeDirectory(io: Io): string {
  const home = io.env.HOME;
  if (home !== undefined && !isAbsolute(home)) {
    throw new AscCredentialError("OUTPUT_INVALID", `Output: HOME ${quote(home)} is not an absolute path, so the default directory (~/.appstoreconnect) would land under the working directory. Set HOME to your home directory, or pass --out DIR.`, "HOME");
  }
  if (home !== undefined) return home;
  let account: string | undefined;
  try {
    account = userInfo().homedir;
  } catch {
    // No account entry (a container's arbitrary user ID).
  }
  if (account === undefined || !isAbsolute(account)) {
    throw new AscCredentialError("OUTPUT_INVALID", "Output: HOME is not set and this user has no home directory, so there is no default directory (~/.appstoreconnect). Pass --out DIR.", "HOME");
  }
  return account;
}

/**
 * The paths export prints are what tools are pointed at, so they are printed as they are: a
 * value that the redaction would change (it may hold key material) is refused instead.
 */
function plainPath(path: string, field: string): string {
  if (redact(path) !== path || [...path].some((c) => c.charCodeAt(0) < 0x20)) {
    throw new AscCredentialError("OUTPUT_INVALID", `Output: ${field} ${quote(path)} does not look like a directory path (it may hold key material or a token). Pass a plain path.`, field);
  }
  return path;
}
