/**
 * Writing key material to disk for the tools that need a file: 0600 files in a directory only
 * the owner can enter, written atomically, never over a different key unless asked, and nothing
 * left behind when a write fails.
 * @packageDocumentation
 */
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { AscCredentialError } from "../core/errors";
import { describeSeen, optionError } from "../core/options";
import { parsePrivateKey } from "../core/private-key";
import { quote, redact } from "../core/redact";
import { MAX_KEY_FILE_BYTES } from "./read-bounded";

/** Options of {@link writeKeyFile} and {@link writePrivateFiles}. */
export interface WriteKeyFileOptions {
  /** Replace an existing file that holds something else. Default false. */
  force?: boolean;
  /** Create the directory's missing parents too (each 0700). Default false: the parent must exist. */
  createParents?: boolean;
}

/** One file to write: its name in the directory and its content. */
export interface PrivateFile {
  name: string;
  content: string;
  /**
   * A key file: an existing file with the same key (by fingerprint) is rewritten in this layout
   * instead of refused. Anything else that differs is refused without `force`.
   */
  sameKeyAs?: string;
}

/** What {@link writePrivateFiles} did with each file. */
export interface WrittenFile {
  path: string;
  /** False when the file already held this key and was left as it was. */
  written: boolean;
}

/**
 * Writes `credential.privateKey` to `<directory>/AuthKey_<KEYID>.p8` (mode 0600; the directory
 * 0700, created if missing). An existing file with the same key is left alone; one with another
 * key is refused unless `force`.
 * @throws AscCredentialError `OUTPUT_INVALID` (the directory cannot hold a private file) or
 * `OUTPUT_EXISTS` (another key is there), naming the path; nothing is left half-written.
 */
export function writeKeyFile(credential: { keyId: string; privateKey: string }, directory: string, options: WriteKeyFileOptions = {}): WrittenFile {
  if (credential === null || typeof credential !== "object") throw optionError("credential", describeSeen(credential), "the stored credential (what readCredential returns: keyId and privateKey)");
  if (typeof directory !== "string" || directory === "") throw optionError("directory", typeof directory === "string" ? "empty" : describeSeen(directory), "the path of a directory only this user can enter (created 0700 if missing)");
  const pem = parsePrivateKey(credential.privateKey).pem;
  const keyId: unknown = credential.keyId;
  if (typeof keyId !== "string" || !/^[A-Z0-9]{10}$/.test(keyId)) {
    throw new AscCredentialError("KEY_ID_INVALID", `keyId ${typeof keyId === "string" ? quote(keyId) : `(${describeSeen(keyId)})`} cannot name a key file: App Store Connect's file name is AuthKey_<KEYID>.p8 with a 10-character Key ID.`, "keyId");
  }
  return writePrivateFiles(directory, [{ name: `AuthKey_${credential.keyId}.p8`, content: pem, sameKeyAs: pem }], options)[0]!;
}

/**
 * Writes several private files into one directory, all or nothing: when one write fails, the
 * files this call created are removed again.
 */
export function writePrivateFiles(directory: string, files: PrivateFile[], options: WriteKeyFileOptions = {}): WrittenFile[] {
  const { createParents = false, force = false } = options ?? {};
  preparePrivateDirectory(directory, createParents === true);
  const plans = files.map((file) => ({ file, path: join(directory, file.name), action: existingAction(join(directory, file.name), file, force === true) }));
  const created: string[] = [];
  const results: WrittenFile[] = [];
  try {
    for (const plan of plans) {
      if (plan.action === "keep") {
        results.push({ path: plan.path, written: false });
        continue;
      }
      atomicWrite(plan.path, plan.file.content);
      if (plan.action === "create") created.push(plan.path);
      results.push({ path: plan.path, written: true });
    }
  } catch (error) {
    for (const path of created) rmSync(path, { force: true });
    throw error;
  }
  return results;
}

/** Makes sure `directory` exists, is a directory, and only its owner can enter it. */
export function preparePrivateDirectory(directory: string, createParents: boolean): void {
  const where = quote(directory);
  // A key goes where tools are pointed at by path: a path the redaction would change (it may hold
  // key material) is refused, not created.
  if (redact(directory) !== directory || [...directory].some((c) => c.charCodeAt(0) < 0x20)) {
    throw outputError(`the directory ${where} does not look like a directory path (it may hold key material or a token). Pass a plain path.`);
  }
  let stats;
  try {
    stats = lstatSync(directory);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOENT") throw outputError(`the directory ${where} cannot be read (${codeOf(error)}). Check its path and permissions.`);
    try {
      mkdirSync(directory, { recursive: createParents, mode: 0o700 });
      // The umask may have taken bits away, never added: set exactly 0700.
      chmodSync(directory, 0o700);
    } catch (mkdirError) {
      const code = (mkdirError as { code?: unknown }).code;
      throw outputError(
        code === "ENOENT"
          ? `the directory ${where} cannot be created: its parent ${quote(dirname(directory))} does not exist. Create the parent first, or pass an existing directory.`
          : `the directory ${where} cannot be created (${codeOf(mkdirError)}). Check that its parent is writable by this user.`,
      );
    }
    return;
  }
  if (stats.isSymbolicLink()) throw outputError(`${where} is a symbolic link; a key is written only into a real directory. Pass the directory it points to.`);
  if (!stats.isDirectory()) throw outputError(`${where} exists and is not a directory. Pass a directory (created 0700 if missing).`);
  if (process.platform !== "win32") {
    if (typeof process.getuid === "function" && stats.uid !== process.getuid()) {
      throw outputError(`the directory ${where} belongs to another user; a key file must sit in a directory of its own user. Pass a directory of yours.`);
    }
    if ((stats.mode & 0o077) !== 0) {
      throw outputError(`the directory ${where} can be entered by other users (mode ${(stats.mode & 0o777).toString(8)}); a key file must sit in a directory only its owner can enter. Run chmod 700 ${where}, or pass a new directory (it is created 0700).`);
    }
  }
}

function existingAction(path: string, file: PrivateFile, force: boolean): "create" | "replace" | "keep" {
  let stats;
  try {
    stats = lstatSync(path);
  } catch {
    return "create";
  }
  if (!stats.isFile()) throw outputError(`${quote(path)} exists and is not a regular file; remove it or pass another directory.`);
  let current: string | undefined;
  try {
    current = readSmallFile(path);
  } catch (error) {
    throw outputError(`${quote(path)} exists and cannot be read (${codeOf(error)}); remove it or pass another directory.`);
  }
  if (current === undefined) {
    // Far larger than any key: something else, judged without reading it.
    if (force) return "replace";
    throw existsError(path);
  }
  if (current === file.content) return (stats.mode & 0o077) === 0 ? "keep" : "replace";
  // The same key in another layout (CRLF, another line width) is rewritten in the normalised one.
  if (force || sameKey(current, file)) return "replace";
  throw existsError(path);
}

function existsError(path: string): AscCredentialError {
  return new AscCredentialError("OUTPUT_EXISTS", `${quote(path)} already holds something else (another key, or an edited file); it was not overwritten. Remove it, pass another directory, or add --force to replace it.`, "out");
}

/** The file's text, or undefined when it holds more than {@link MAX_KEY_FILE_BYTES}: never read whole. */
function readSmallFile(path: string): string | undefined {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  try {
    const buffer = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
    let size = 0;
    for (;;) {
      const n = size < buffer.length ? readSync(fd, buffer, size, buffer.length - size, null) : 0;
      if (n === 0) break;
      size += n;
    }
    return size > MAX_KEY_FILE_BYTES ? undefined : buffer.toString("utf8", 0, size);
  } finally {
    closeSync(fd);
  }
}

function sameKey(current: string, file: PrivateFile): boolean {
  if (file.sameKeyAs === undefined) return false;
  try {
    return parsePrivateKey(current).fingerprint === parsePrivateKey(file.sameKeyAs).fingerprint;
  } catch {
    return false;
  }
}

/** Writes a temp file (0600, exclusive) next to `path`, syncs it, and renames it over `path`. */
function atomicWrite(path: string, content: string): void {
  const temp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    writeSync(fd, content);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
    throw outputError(`${quote(path)} could not be written (${codeOf(error)}). Check that the directory is writable and has space.`);
  }
  if ((statSync(path).mode & 0o777) !== 0o600) chmodSync(path, 0o600);
}

function outputError(message: string): AscCredentialError {
  return new AscCredentialError("OUTPUT_INVALID", `Output: ${message}`, "out");
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && /^E[A-Z]{2,12}$/.test(code) ? code : "an unknown error";
}
