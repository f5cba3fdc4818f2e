/**
 * The one credential resolver: explicit values (CLI flags, `fromFile` options), then environment
 * variables of every tool that consumes a key, then the directories altool searches. The CLI and
 * the runtime both resolve through here, so they agree on every name. The table of names and the
 * precedence: README "Where a key is found".
 * @packageDocumentation
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { AscCredentialError } from "../core/errors";
import { keyIdFromFileName, type KeyType } from "../core/identifiers";
import { describeSeen, optionError } from "../core/options";
import { parsePrivateKey } from "../core/private-key";
import { printable, quote, redact } from "../core/redact";
import { checkCredential, type LoadedCredential } from "./credential";
import { DEFAULT_READ_TIMEOUT_MS, readBounded } from "./read-bounded";

/** Variables naming the Key ID, in the order they are read: this package, fastlane, codemagic, EAS, the asc CLI. */
export const KEY_ID_VARIABLES = ["APP_STORE_CONNECT_KEY_ID", "APP_STORE_CONNECT_API_KEY_KEY_ID", "APP_STORE_CONNECT_KEY_IDENTIFIER", "EXPO_ASC_KEY_ID", "ASC_KEY_ID"] as const;
/** Variables naming the Issuer ID: this package and codemagic, fastlane, EAS, the asc CLI. */
export const ISSUER_ID_VARIABLES = ["APP_STORE_CONNECT_ISSUER_ID", "APP_STORE_CONNECT_API_KEY_ISSUER_ID", "EXPO_ASC_ISSUER_ID", "ASC_ISSUER_ID"] as const;
/** Variables holding the key itself (any accepted form): this package and codemagic, fastlane, the asc CLI. */
export const KEY_CONTENT_VARIABLES = ["APP_STORE_CONNECT_PRIVATE_KEY", "APP_STORE_CONNECT_API_KEY_KEY", "ASC_PRIVATE_KEY", "ASC_PRIVATE_KEY_B64"] as const;
/** Variables holding the key file's path: this package, fastlane, EAS, the asc CLI. */
export const KEY_PATH_VARIABLES = ["APP_STORE_CONNECT_PRIVATE_KEY_PATH", "APP_STORE_CONNECT_API_KEY_KEY_FILEPATH", "EXPO_ASC_API_KEY_PATH", "ASC_PRIVATE_KEY_PATH"] as const;
/** `team` (default) or `individual`. */
export const KEY_TYPE_VARIABLE = "APP_STORE_CONNECT_KEY_TYPE";
/** altool's own directory for `AuthKey_<KEYID>.p8`. */
export const KEY_DIRECTORY_VARIABLE = "API_PRIVATE_KEYS_DIR";
// codemagic-cli-tools lets these hold `@env:NAME` or `@file:PATH` instead of the value.
const CODEMAGIC_REFERENCES = new Set<string>(["APP_STORE_CONNECT_PRIVATE_KEY", "APP_STORE_CONNECT_KEY_IDENTIFIER", "APP_STORE_CONNECT_ISSUER_ID"]);

/** What to resolve. Explicit values win over the environment. */
export interface CredentialRequest {
  /** A key file's path, or `-` for stdin (`--key`). */
  key?: string;
  /** The variable holding the key (`--key-env`). */
  keyEnv?: string;
  keyId?: string;
  issuerId?: string;
  keyType?: string;
  /** The variables to read; `{}` reads none. */
  env: Readonly<Record<string, string | undefined>>;
  /** Bound of each file or stdin read, in ms; default {@link DEFAULT_READ_TIMEOUT_MS}. */
  readTimeoutMs?: number;
  /** Where `./private_keys` and `~/...` are; default the process's. */
  cwd?: string;
  home?: string;
  /** What the explicit values are called where they came from, for messages; default the CLI's flags. */
  names?: ExplicitNames;
}

/** The names of the explicit values of a {@link CredentialRequest}: flags, or a source's options. */
export interface ExplicitNames {
  key: string;
  keyId: string;
  issuerId: string;
  keyType: string;
}

const CLI_FLAGS: ExplicitNames = { key: "--key", keyId: "--key-id", issuerId: "--issuer-id", keyType: "--individual" };

/** A resolved value and the flag, variable or file name it came from. */
export interface Provenance {
  value: string;
  /** E.g. `--key-id`, `APP_STORE_CONNECT_KEY_ID`, `the file name`. */
  from: string;
}

/** Where the key came from, for messages and `doctor --json` (never the key). */
export interface KeySource {
  kind: "file" | "env" | "stdin" | "secretsManager" | "vault";
  /** The path, variable name or secret ID, redacted. */
  name: string;
  /** The flag or variable that named it. */
  from: string;
}

/** The outcome of {@link resolveCredential}: what was found, and every problem met on the way. */
export interface ResolvedCredential {
  source?: KeySource;
  bytes?: Buffer;
  /** Permission bits of a key file. */
  mode?: number;
  /** The key file's name, for the `AuthKey_<KEYID>.p8` cross-check. */
  fileName?: string;
  keyId?: Provenance;
  issuerId?: Provenance;
  keyType: { value: KeyType; from?: string };
  /** Read failures, disagreeing sources, a bad key type; the first one is what a caller throws. */
  problems: AscCredentialError[];
}

interface Candidate {
  source: KeySource;
  read: () => Promise<{ bytes: Buffer; mode?: number; kind: string }>;
  fileName?: string;
}

/**
 * Resolves a credential from explicit values, the environment and altool's directories. Never
 * throws for a bad input: every problem is in `problems`, so `doctor` can report them all.
 */
export async function resolveCredential(request: CredentialRequest): Promise<ResolvedCredential> {
  const env = request.env;
  const problems: AscCredentialError[] = [];
  const timeoutMs = request.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  const badValues = new Set<string>();
  const value = (name: string): string | undefined => {
    const raw: unknown = env[name];
    if (raw !== undefined && typeof raw !== "string") {
      // Only a caller's own env object can hold these (process.env holds strings).
      if (!badValues.has(name)) problems.push(optionError(`env[${quote(name)}]`, describeSeen(raw), "a string, as environment variables are"));
      badValues.add(name);
      return undefined;
    }
    return raw === undefined || raw.trim() === "" ? undefined : raw;
  };
  const fromReference = async (name: string, raw: string): Promise<string | undefined> => {
    if (!CODEMAGIC_REFERENCES.has(name)) return raw;
    if (raw.startsWith("@env:")) return value(raw.slice(5));
    if (raw.startsWith("@file:")) return (await readBounded({ path: filePath(raw), field: `${name} (@file:)` }, timeoutMs)).bytes.toString("utf8");
    return raw;
  };
  // codemagic expands variables and a leading ~ in an @file: path (os.path.expandvars, then
  // expanduser): $NAME and ${NAME} when NAME is set, else left as they are.
  const filePath = (raw: string): string => {
    const expanded = raw.slice(6).replace(/\$(\w+)|\$\{([^}]*)\}/g, (whole, bare?: string, braced?: string) => value(bare ?? braced ?? "") ?? whole);
    const home = (): string => value("HOME") ?? request.home ?? homedir();
    return expanded === "~" ? home() : expanded.startsWith("~/") ? join(home(), expanded.slice(2)) : expanded;
  };

  const names = request.names ?? CLI_FLAGS;
  const keyType = resolveKeyType(request, names, value, problems);
  const keyId = request.keyId !== undefined ? { value: request.keyId, from: names.keyId } : await agreeing("keyId", KEY_ID_VARIABLES, value, fromReference, problems);
  const issuerId = request.issuerId !== undefined ? { value: request.issuerId, from: names.issuerId } : await agreeing("issuerId", ISSUER_ID_VARIABLES, value, fromReference, problems);

  const resolved: ResolvedCredential = { keyType, problems, ...(keyId ? { keyId } : {}), ...(issuerId ? { issuerId } : {}) };
  let candidates: Candidate[];
  if (request.key !== undefined) {
    candidates = [fileCandidate(request.key, names.key, timeoutMs)];
  } else if (request.keyEnv !== undefined) {
    const name = request.keyEnv;
    if (value(name) === undefined) {
      problems.push(new AscCredentialError("KEY_EMPTY", `--key-env ${quote(name)}: the variable ${quote(name)} is not set (or empty) in this environment. Set it (in CI, map the secret into this step's environment), or pass the key file with --key.`, "privateKey"));
    }
    candidates = [{ source: { kind: "env", name: printable(redact(name)), from: "--key-env" }, read: async () => ({ bytes: Buffer.from(value(name) ?? ""), kind: "env" }) }];
  } else {
    candidates = [
      ...KEY_CONTENT_VARIABLES.filter((name) => value(name) !== undefined).map((name): Candidate => {
        const raw = value(name)!;
        // A codemagic @file: reference is a file source, named by its variable.
        if (CODEMAGIC_REFERENCES.has(name) && raw.startsWith("@file:")) return fileCandidate(filePath(raw), `${name} (@file:)`, timeoutMs);
        return { source: { kind: "env", name, from: name }, read: async () => ({ bytes: Buffer.from((await fromReference(name, raw)) ?? ""), kind: "env" }) };
      }),
      ...KEY_PATH_VARIABLES.filter((name) => value(name) !== undefined).map((name) => fileCandidate(value(name)!, name, timeoutMs)),
    ];
    if (candidates.length === 0 && keyId) candidates = keyDirectoryCandidates(keyId.value, request, value, timeoutMs);
  }
  if (candidates.length === 0) return resolved;

  const reads: { candidate: Candidate; bytes?: Buffer; mode?: number; fingerprint?: string }[] = [];
  for (const candidate of candidates) {
    try {
      const read = await candidate.read();
      let fingerprint: string | undefined;
      // Only whether two sources hold one key matters here (validation judges the key later), so a
      // single source is not parsed twice: a cold process's first token waits on every parse.
      if (candidates.length > 1) {
        try {
          fingerprint = parsePrivateKey(new Uint8Array(read.bytes)).fingerprint;
        } catch {
          // Unparseable: counted as another key below, and judged by validation later.
        }
      }
      if (read.bytes.length === 0 && read.kind === "pipe") {
        problems.push(new AscCredentialError("KEY_EMPTY", `${describeSource(candidate.source)} is a pipe that delivered nothing (a named pipe with no writer, or a producer that failed). Check what feeds it.`, "privateKey"));
      }
      reads.push({ candidate, bytes: read.bytes, ...(read.mode !== undefined ? { mode: read.mode } : {}), ...(fingerprint ? { fingerprint } : {}) });
    } catch (error) {
      problems.push(error instanceof AscCredentialError ? error : new AscCredentialError("SECRET_READ_FAILED", `${describeSource(candidate.source)} could not be read.`, "privateKey"));
      reads.push({ candidate });
    }
  }
  const first = reads[0]!;
  resolved.source = first.candidate.source;
  if (first.bytes) resolved.bytes = first.bytes;
  if (first.mode !== undefined) resolved.mode = first.mode;
  if (first.candidate.fileName) resolved.fileName = first.candidate.fileName;
  const disagreeing = reads.slice(1).find((other) => other.fingerprint === undefined || first.fingerprint === undefined || other.fingerprint !== first.fingerprint);
  if (disagreeing) {
    problems.unshift(
      new AscCredentialError(
        "SOURCE_CONFLICT",
        `${describeSource(first.candidate.source)} and ${describeSource(disagreeing.candidate.source)} both give a private key, and not the same one. Keep one of them (unset the other), so it is clear which key is used.`,
        "privateKey",
      ),
    );
  }
  if (!resolved.keyId && resolved.fileName) {
    const fromName = keyIdFromFileName(resolved.fileName);
    if (fromName !== undefined) resolved.keyId = { value: fromName, from: "the file name" };
  }
  return resolved;
}

/**
 * The validated credential of a resolution, or its first problem thrown.
 * @throws AscCredentialError: the first of `problems`, a missing key or key ID, or a validation issue.
 */
export function loadResolved(resolved: ResolvedCredential): LoadedCredential {
  const problem = resolved.problems[0];
  if (problem) throw problem;
  if (!resolved.source || !resolved.bytes) {
    throw new AscCredentialError("KEY_EMPTY", `No private key was given: pass a key file, or set one of ${[...KEY_CONTENT_VARIABLES, ...KEY_PATH_VARIABLES].join(", ")} (README "Where a key is found").`, "privateKey");
  }
  const where = describeSource(resolved.source);
  if (!resolved.keyId) {
    throw new AscCredentialError("KEY_ID_INVALID", `${where}: no Key ID was given${resolved.source.kind === "file" ? " and the file is not named AuthKey_<KEYID>.p8" : ""}. Pass the 10-character Key ID (like 2X9R4HXF34) shown next to the key in App Store Connect, or set ${KEY_ID_VARIABLES[0]}.`, "keyId");
  }
  try {
    return checkCredential(
      {
        keyId: resolved.keyId.value,
        privateKey: new Uint8Array(resolved.bytes),
        keyType: resolved.keyType.value,
        ...(resolved.issuerId ? { issuerId: resolved.issuerId.value } : {}),
        ...(resolved.fileName ? { privateKeyFileName: resolved.fileName } : {}),
      },
      where,
    );
  } catch (error) {
    throw withIdentifierSource(error, resolved);
  }
}

/**
 * A bad Key ID or Issuer ID from one of several tools' variables: the message names the
 * variable, which the key's source (the prefix) does not tell.
 */
function withIdentifierSource(error: unknown, resolved: ResolvedCredential): unknown {
  if (!(error instanceof AscCredentialError)) return error;
  const [label, from, variables] =
    error.field === "keyId" ? ["Key ID", resolved.keyId?.from, KEY_ID_VARIABLES] : error.field === "issuerId" ? ["Issuer ID", resolved.issuerId?.from, ISSUER_ID_VARIABLES] : [];
  if (from === undefined || !(variables as readonly string[]).includes(from)) return error;
  return new AscCredentialError(error.code, `${error.message} (the ${label} came from ${from})`, error.field);
}

/** A key source in words: `--key '/path/AuthKey_X.p8'`, `APP_STORE_CONNECT_PRIVATE_KEY`, stdin. */
export function describeSource(source: KeySource): string {
  if (source.kind === "stdin") return `${source.from} - (stdin)`;
  if (source.kind === "secretsManager") return `Secret '${source.name}'`;
  if (source.kind === "vault") return `Vault secret '${source.name}'`;
  if (source.kind === "env") return source.from === source.name ? `environment variable ${source.name}` : `${source.from} ${source.name}`;
  return `${source.from} '${source.name}'`;
}

function fileCandidate(path: string, from: string, timeoutMs: number): Candidate {
  if (path === "-") return { source: { kind: "stdin", name: "-", from }, read: () => readBounded({ path, field: from }, timeoutMs) };
  return { source: { kind: "file", name: printable(redact(path)), from }, read: () => readBounded({ path, field: from }, timeoutMs), fileName: basename(path) };
}

function resolveKeyType(request: CredentialRequest, names: ExplicitNames, value: (name: string) => string | undefined, problems: AscCredentialError[]): ResolvedCredential["keyType"] {
  const raw: unknown = request.keyType ?? value(KEY_TYPE_VARIABLE);
  // Trimmed like the identifiers: a CI variable often carries a trailing newline.
  const given = typeof raw === "string" ? raw.trim() : raw;
  const from = request.keyType !== undefined ? names.keyType : given !== undefined ? KEY_TYPE_VARIABLE : undefined;
  if (given === undefined || given === "team") return from ? { value: "team", from } : { value: "team" };
  if (given === "individual") return { value: "individual", from: from! };
  problems.push(new AscCredentialError("KEY_TYPE_INVALID", `${from} is ${typeof given === "string" ? quote(given) : describeSeen(given)}, not a key type. Use "team" (keys from the Team Keys tab) or "individual" (a user's own key), or leave it unset for team.`, "keyType"));
  return { value: "team", from: from! };
}

/** The one value all set variables of `names` agree on; a disagreement is a problem naming both. */
async function agreeing(
  field: "keyId" | "issuerId",
  names: readonly string[],
  value: (name: string) => string | undefined,
  fromReference: (name: string, raw: string) => Promise<string | undefined>,
  problems: AscCredentialError[],
): Promise<Provenance | undefined> {
  let found: Provenance | undefined;
  for (const name of names) {
    const raw = value(name);
    if (raw === undefined) continue;
    let resolved: string | undefined;
    try {
      resolved = await fromReference(name, raw);
    } catch (error) {
      problems.push(error instanceof AscCredentialError ? error : new AscCredentialError("SECRET_READ_FAILED", `${name} could not be read.`, field));
      continue;
    }
    if (resolved === undefined) continue;
    resolved = resolved.trim();
    if (!found) found = { value: resolved, from: name };
    else if (found.value !== resolved) {
      problems.push(new AscCredentialError("SOURCE_CONFLICT", `${found.from} is ${quote(found.value)} but ${name} is ${quote(resolved)}: two tools' variables name different keys. Set them to the same ${field === "keyId" ? "Key ID" : "Issuer ID"}, or unset one.`, field));
      return found;
    }
  }
  return found;
}

/** altool's search path for `AuthKey_<KEYID>.p8`, in its order. */
export function keyDirectories(cwd: string, home: string, env: (name: string) => string | undefined): string[] {
  const own = env(KEY_DIRECTORY_VARIABLE);
  return [join(cwd, "private_keys"), join(home, "private_keys"), join(home, ".private_keys"), join(home, ".appstoreconnect", "private_keys"), ...(own ? [own] : [])];
}

function keyDirectoryCandidates(keyId: string, request: CredentialRequest, value: (name: string) => string | undefined, timeoutMs: number): Candidate[] {
  if (!/^[A-Za-z0-9]{1,20}$/.test(keyId)) return [];
  return keyDirectories(request.cwd ?? process.cwd(), request.home ?? homedir(), value)
    .map((dir) => join(dir, `AuthKey_${keyId}.p8`))
    .filter((path) => existsSync(path))
    .map((path) => fileCandidate(path, "found", timeoutMs));
}
