/**
 * Reading a key from a file, a pipe or stdin, within a time and a size bound: a FIFO with no
 * writer, a stalled pipe or a terminal never hangs a command, and `/dev/zero` never fills memory.
 * @packageDocumentation
 */
import { close, constants, fstat, open, read, type Stats } from "node:fs";
import { AscCredentialError } from "../core/errors";
import { quote, redact } from "../core/redact";

/** How long a key file or stdin may take to deliver the key, by default. */
export const DEFAULT_READ_TIMEOUT_MS = 10_000;
/**
 * The time a store reader gives itself out of a caller's `timeoutMs`: a little less, so its own
 * error, which names the secret and the server, is the one a caller racing the same bound sees.
 */
export function readerBudgetMs(timeoutMs: number): number {
  return Math.max(1, timeoutMs - Math.min(20, Math.floor(timeoutMs / 5)));
}

/** No key in any accepted form comes near this; more means the wrong file. */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

/** What was read and from what kind of file. */
export interface BoundedRead {
  bytes: Buffer;
  /** Permission bits of a regular file (for the 0644 warning). */
  mode?: number;
  kind: "file" | "pipe" | "other";
}

/** Where the bytes come from, for messages: a path, or stdin. */
export interface ReadTarget {
  /** A file path, or "-" for stdin. */
  path: string;
  /** The field or flag the path came from, e.g. `--key` or `APP_STORE_CONNECT_PRIVATE_KEY_PATH`. */
  field: string;
}

/**
 * Reads at most {@link MAX_KEY_FILE_BYTES} + 1 bytes (so the parser can say "far too long") from a
 * file, a FIFO, a character device or stdin (`-`), giving up after `timeoutMs`.
 * @throws AscCredentialError `SECRET_NOT_FOUND` (no such file), `SECRET_READ_FAILED` (a directory,
 * no permission, a timeout, stdin on a terminal), each naming the field and the fix.
 */
export async function readBounded(target: ReadTarget, timeoutMs = DEFAULT_READ_TIMEOUT_MS): Promise<BoundedRead> {
  const where = target.path === "-" ? `${target.field} - (stdin)` : `${target.field} ${quote(target.path)}`;
  if (target.path === "-") {
    if (process.stdin.isTTY) {
      throw new AscCredentialError("SECRET_READ_FAILED", `${where}: stdin is a terminal, so there is no key to read. Pipe the key in (asc-credential … --key - < AuthKey_<KEYID>.p8), or pass the file's path.`, "privateKey");
    }
    return { bytes: await fromStream(process.stdin, where, timeoutMs, false), kind: "pipe" };
  }
  const fd = await openNonBlocking(target.path, where);
  let closed = false;
  const done = (): void => {
    if (!closed) close(fd, () => undefined);
    closed = true;
  };
  try {
    const stats = await new Promise<Stats>((resolve, reject) => fstat(fd, (error, s) => (error ? reject(error) : resolve(s))));
    if (stats.isDirectory()) {
      throw new AscCredentialError("SECRET_READ_FAILED", `${where} is a directory. Point it at the AuthKey_<KEYID>.p8 file itself.`, "privateKey");
    }
    if (stats.isFile()) return { bytes: await fromRegularFile(fd, where, timeoutMs), mode: stats.mode, kind: "file" };
    if (!stats.isFIFO()) return { bytes: await fromRegularFile(fd, where, timeoutMs), kind: "other" };
    // A FIFO (process substitution, a named pipe): read as a stream, bounded. With no writer it
    // ends at once, empty.
    closed = true;
    const socket = new (loadNet().Socket)({ fd, readable: true, writable: false });
    return { bytes: await fromStream(socket, where, timeoutMs, true), kind: "pipe" };
  } finally {
    done();
  }
}

// node:net (and the stream stack under it) is loaded only for a pipe: a cold process reading its
// key from the environment or a file never pays for it.
type NetModule = typeof import("node:net");
let net: NetModule | undefined;
function loadNet(): NetModule {
  net ??= require("node:net") as NetModule;
  return net;
}

function openNonBlocking(path: string, where: string): Promise<number> {
  // O_NONBLOCK: opening a FIFO with no writer returns at once instead of blocking a thread.
  return new Promise((resolve, reject) =>
    open(path, constants.O_RDONLY | constants.O_NONBLOCK, (error, fd) => (error ? reject(keyTextError(error, path, where) ?? fileError(error, where)) : resolve(fd))),
  );
}

/**
 * A path that names no file and looks like the key's text (a PEM, or a long base64 run): the key
 * was put where its file's path belongs (`--key "$(cat AuthKey_….p8)"`, a `…_PATH` variable set to
 * the key). Said so, with where each belongs, instead of "does not exist".
 */
function keyTextError(error: unknown, path: string, where: string): AscCredentialError | undefined {
  const code = (error as { code?: unknown })?.code;
  if (code !== "ENOENT" && code !== "ENAMETOOLONG") return undefined;
  const certain = /-----BEGIN|BEGIN [A-Z ]*PRIVATE KEY/.test(path);
  if (!certain && redact(path) === path) return undefined;
  return new AscCredentialError(
    "SECRET_NOT_FOUND",
    `${where} ${certain ? "holds the key itself" : "names no file and looks like key content (base64)"}, not the path of a key file. Give the path of the AuthKey_<KEYID>.p8 file there; the key's own text belongs in a key variable (--key-env VAR, APP_STORE_CONNECT_PRIVATE_KEY) or on stdin (--key - < AuthKey_<KEYID>.p8).`,
    "privateKey",
  );
}

async function fromRegularFile(fd: number, where: string, timeoutMs: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const reading = (async () => {
    for (;;) {
      const chunk = Buffer.alloc(16 * 1024);
      const n = await new Promise<number>((resolve, reject) => read(fd, chunk, 0, chunk.length, null, (error, bytes) => (error ? reject(fileError(error, where)) : resolve(bytes))));
      if (n === 0) return Buffer.concat(chunks);
      chunks.push(chunk.subarray(0, n));
      size += n;
      if (size > MAX_KEY_FILE_BYTES) return Buffer.concat(chunks);
    }
  })();
  // Abandoned on a timeout: its later failure (the descriptor closed under it) is not news.
  reading.catch(() => undefined);
  return withTimeout(reading, timeoutMs, where);
}

function fromStream(stream: NodeJS.ReadableStream & { destroy?: () => void }, where: string, timeoutMs: number, destroy: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      stream.removeListener("data", onData);
      stream.removeListener("end", onEnd);
      stream.removeListener("error", onError);
      if (destroy) stream.destroy?.();
      else stream.pause();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer | string): void => {
      const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      chunks.push(buffer);
      size += buffer.length;
      if (size > MAX_KEY_FILE_BYTES) finish();
    };
    const onEnd = (): void => finish();
    const onError = (error: Error): void => finish(fileError(error, where));
    const timer = setTimeout(() => finish(timeoutError(where, timeoutMs)), timeoutMs);
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("error", onError);
    stream.resume();
  });
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number, where: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError(where, timeoutMs)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function timeoutError(where: string, timeoutMs: number): AscCredentialError {
  return new AscCredentialError("SECRET_READ_FAILED", `${where} delivered no key within ${timeoutMs} ms (a pipe nobody writes to, or a stalled mount). Check what feeds it, or raise the read timeout.`, "privateKey");
}

/** A file system error in words, with the fix; never the error's own text (it could quote input). */
export function fileError(error: unknown, where: string): AscCredentialError {
  if (error instanceof AscCredentialError) return error;
  const code = (error as { code?: unknown })?.code;
  if (code === "ENOENT") return new AscCredentialError("SECRET_NOT_FOUND", `${where} does not exist. Check the path; App Store Connect names the download AuthKey_<KEYID>.p8.`, "privateKey");
  const name = typeof code === "string" && /^E[A-Z]{2,12}$/.test(code) ? code : "an unknown error";
  const fix =
    code === "EACCES" || code === "EPERM"
      ? "Make it readable by this user (chmod 600, owned by the user running this)."
      : code === "EISDIR"
        ? "Point it at the AuthKey_<KEYID>.p8 file, not its directory."
        : code === "ENAMETOOLONG"
          ? "That is not a path: pass the path of the .p8 file (a key's contents go in the key variable instead)."
          : "Check the path and its permissions.";
  return new AscCredentialError("SECRET_READ_FAILED", `${where} could not be read (${name}). ${fix}`, "privateKey");
}
