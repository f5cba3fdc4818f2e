import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import type { KeyType } from "../core/identifiers";
import { keyIdFromFileName } from "../core/identifiers";
import { ENV } from "../runtime/local-sources";

/** A command-line mistake: exit code 2 and the usage text. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The key options every command shares. */
export interface KeyArgs {
  key?: string;
  "key-env"?: string;
  "key-id"?: string;
  "issuer-id"?: string;
  individual?: boolean;
}

/** Where the key came from, for messages (never the key itself). */
export type KeySource = { kind: "file"; path: string } | { kind: "env"; variable: string };

/** What the key options resolve to. `bytes` is undefined when the source could not be read. */
export interface ResolvedKey {
  source: KeySource;
  bytes?: Uint8Array;
  /** Why the source could not be read, with the fix. */
  readProblem?: { code: "SECRET_NOT_FOUND" | "SECRET_READ_FAILED" | "KEY_EMPTY"; message: string; fix: string };
  /** File mode bits, for the permission check. */
  mode?: number;
  keyId?: string;
  keyIdSource?: "flag" | "env" | "filename";
  issuerId?: string;
  keyType: KeyType;
}

/**
 * Resolves `--key FILE | --key-env VAR`, `--key-id`, `--issuer-id`, `--individual`, falling
 * back to the `APP_STORE_CONNECT_*` variables, then (for the key ID) to the file name.
 * @throws {@link UsageError} when no key source is given or two are.
 */
export function resolveKey(args: KeyArgs, env: NodeJS.ProcessEnv): ResolvedKey {
  if (args.key !== undefined && args["key-env"] !== undefined) throw new UsageError("give either --key FILE or --key-env VAR, not both");
  let source: KeySource;
  if (args.key !== undefined) source = { kind: "file", path: args.key };
  else if (args["key-env"] !== undefined) source = { kind: "env", variable: args["key-env"] };
  else if (env[ENV.privateKey]) source = { kind: "env", variable: ENV.privateKey };
  else if (env[ENV.privateKeyPath]) source = { kind: "file", path: env[ENV.privateKeyPath] as string };
  else throw new UsageError(`no key given: pass --key AuthKey_<KEYID>.p8 or --key-env VAR (or set ${ENV.privateKey} / ${ENV.privateKeyPath})`);

  const keyType: KeyType = args.individual || env[ENV.keyType] === "individual" ? "individual" : "team";
  const resolved: ResolvedKey = { source, keyType };
  if (args["key-id"] !== undefined) Object.assign(resolved, { keyId: args["key-id"], keyIdSource: "flag" });
  else if (env[ENV.keyId]) Object.assign(resolved, { keyId: env[ENV.keyId], keyIdSource: "env" });
  else if (source.kind === "file" && keyIdFromFileName(source.path)) Object.assign(resolved, { keyId: keyIdFromFileName(source.path), keyIdSource: "filename" });
  const issuerId = args["issuer-id"] ?? (env[ENV.issuerId] || undefined);
  if (issuerId !== undefined) resolved.issuerId = issuerId;

  if (source.kind === "env") {
    const value = env[source.variable];
    if (value === undefined || value.trim() === "") {
      resolved.readProblem = { code: "KEY_EMPTY", message: `environment variable ${source.variable} is ${value === undefined ? "not set" : "empty"}`, fix: `export ${source.variable} with the contents of AuthKey_<KEYID>.p8 (any form: PEM, PEM with \\n, base64)` };
    } else {
      resolved.bytes = new Uint8Array(Buffer.from(value, "utf8"));
    }
    return resolved;
  }
  try {
    resolved.mode = statSync(source.path).mode;
    resolved.bytes = new Uint8Array(readFileSync(source.path));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    resolved.readProblem =
      code === "ENOENT"
        ? { code: "SECRET_NOT_FOUND", message: `key file ${source.path} does not exist`, fix: "check the path; App Store Connect names the download AuthKey_<KEYID>.p8" }
        : { code: "SECRET_READ_FAILED", message: `key file ${source.path} could not be read (${typeof code === "string" ? code : "unknown error"})`, fix: code === "EISDIR" ? "point --key at the .p8 file, not its directory" : `make it readable by this user: chmod 600 ${basename(source.path)}` };
  }
  return resolved;
}

/** A short description of the key source, e.g. `AuthKey_2X9R4HXF34.p8` or `$VAR`. */
export function describeSource(source: KeySource): string {
  return source.kind === "file" ? source.path : `$${source.variable}`;
}
