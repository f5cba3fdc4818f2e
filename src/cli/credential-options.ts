/**
 * The flags every command takes to find a credential, turned into a request for the one
 * resolver (src/runtime/resolve.ts) or a store read. The CLI keeps no rules of its own: which
 * variables count, in which order, and when two sources disagree, is the resolver's business.
 * @packageDocumentation
 */
import type { ParseArgsConfig } from "node:util";
import { checkTimeoutMs } from "../core/options";
import type { LoadedCredential } from "../runtime/credential";
import { DEFAULT_READ_TIMEOUT_MS } from "../runtime/read-bounded";
import { parsePrivateKey, type ParsedPrivateKey } from "../core/private-key";
import { describeSource, loadResolved, resolveCredential, type ResolvedCredential } from "../runtime/resolve";
import { credentialLoader } from "../runtime/sources";
import { AscCredentialError, isAscCredentialError } from "../core/errors";
import { printable, redact } from "../core/redact";
import { scrubbed, shellQuote, UsageError, type Io, type Values } from "./io";

/** Flags naming the key and its identifiers. */
export const KEY_OPTIONS = {
  key: { type: "string" },
  "key-env": { type: "string" },
  "key-id": { type: "string" },
  "issuer-id": { type: "string" },
  individual: { type: "boolean" },
  "read-timeout": { type: "string" },
  "secret-id": { type: "string" },
  "version-stage": { type: "string" },
  region: { type: "string" },
  "vault-path": { type: "string" },
  "vault-mount": { type: "string" },
  "vault-version": { type: "string" },
  "vault-address": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

const IDENTIFIERS_HELP = `  --key-id ID          the 10-character Key ID (default: from the file name or the environment)
  --issuer-id UUID     the team's Issuer ID (team keys)
  --individual         an individual key (no Issuer ID)
  --read-timeout MS    give up on a file, pipe or secret read after MS milliseconds (default ${DEFAULT_READ_TIMEOUT_MS})
`;

/** The key flags' help text, shared by every command's `--help` but config's. */
export const KEY_HELP = `Where the key comes from (one of):
  --key FILE           the AuthKey_<KEYID>.p8 file (key ID from its name); "-" reads stdin
  --key-env VAR        environment variable VAR holds the key (PEM, PEM with \\n, base64)
  --secret-id ID       the secret AppStoreConnectApiKey stored in AWS Secrets Manager (name or ARN),
                       read with the AWS SDK's default credentials; --version-stage S (e.g.
                       AWSPREVIOUS), --region R
  --vault-path PATH    the secret the Vault AppStoreConnectApiKey stored (its path output), read
                       with VAULT_TOKEN (or BAO_TOKEN) from VAULT_ADDR (or BAO_ADDR) and
                       VAULT_NAMESPACE; --vault-mount M (default secret), --vault-version N or
                       "previous", --vault-address URL (instead of VAULT_ADDR)
  (none)               the environment: this package's, fastlane's, codemagic's, EAS's or the asc
                       CLI's variables, then AuthKey_<KEYID>.p8 in altool's directories

Identifiers (not needed with --secret-id or --vault-path):
${IDENTIFIERS_HELP}`;

/**
 * config's key flags: only a file or a variable, the places its printed commands read the key
 * from (stdin, a store and the environment have nothing to point `pulumi config set` at).
 */
export const CONFIG_KEY_HELP = `Where the key comes from (one of):
  --key FILE           the AuthKey_<KEYID>.p8 file (key ID from its name)
  --key-env VAR        environment variable VAR holds the key (PEM, PEM with \\n, base64)

Identifiers:
${IDENTIFIERS_HELP}`;

/** The read timeout flag, checked like every timeout option. */
export function readTimeout(values: Values): number {
  const raw = values["read-timeout"];
  if (raw === undefined) return DEFAULT_READ_TIMEOUT_MS;
  if (typeof raw !== "string" || !/^\d+$/.test(raw)) throw new UsageError("--read-timeout must be a whole number of milliseconds (1 to 120000)");
  return checkTimeoutMs(Number(raw), DEFAULT_READ_TIMEOUT_MS, "--read-timeout");
}

function flag(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

function checkSourceFlags(values: Values): void {
  const given = ["key", "key-env", "secret-id", "vault-path"].filter((name) => values[name] !== undefined);
  if (given.length > 1) throw new UsageError(`give one key source, not ${given.map((name) => `--${name}`).join(" and ")}`);
  const keyEnv = flag(values, "key-env");
  if (keyEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(keyEnv)) {
    // Most often "$ASC_KEY" where ASC_KEY belongs: the value itself, which is never repeated.
    throw new UsageError("--key-env takes the name of the environment variable that holds the key (like --key-env ASC_KEY), and what was given is not a variable name. To pass the key itself, pipe it: --key - < AuthKey_<KEYID>.p8");
  }
  const store = ["secret-id", "vault-path"].find((name) => values[name] !== undefined);
  if (store !== undefined && ["key-id", "issuer-id", "individual"].some((name) => values[name] !== undefined)) {
    throw new UsageError(`--${store} reads the key ID, Issuer ID and key type from the secret; drop --key-id, --issuer-id and --individual`);
  }
  if (values["secret-id"] === undefined && (values["version-stage"] !== undefined || values.region !== undefined)) {
    throw new UsageError("--version-stage and --region go with --secret-id");
  }
  const vaultFlags = ["vault-mount", "vault-version", "vault-address"].filter((name) => values[name] !== undefined);
  if (values["vault-path"] === undefined && vaultFlags.length > 0) {
    throw new UsageError(`${vaultFlags.map((name) => `--${name}`).join(" and ")} go${vaultFlags.length === 1 ? "es" : ""} with --vault-path`);
  }
}

/** `--vault-version`: a KV v2 version number or `previous`. */
function vaultVersion(values: Values): number | "previous" | undefined {
  const raw = flag(values, "vault-version");
  if (raw === undefined || raw === "previous") return raw;
  if (!/^[1-9]\d{0,9}$/.test(raw)) throw new UsageError('--vault-version must be a KV v2 version number (1 or more) or "previous"');
  return Number(raw);
}

/**
 * Resolves the flags and the environment, without throwing for a bad credential: `doctor`
 * reports every problem. A store source (`--secret-id`) is read and validated whole.
 */
export async function resolveFromFlags(values: Values, io: Io): Promise<ResolvedCredential> {
  checkSourceFlags(values);
  const timeoutMs = readTimeout(values);
  const secretId = flag(values, "secret-id");
  if (secretId !== undefined) {
    const source = { kind: "secretsManager" as const, name: printable(redact(secretId)), from: "--secret-id" };
    try {
      const loaded = await credentialLoader({ secretId, ...optional("versionStage", flag(values, "version-stage")), ...optional("region", flag(values, "region")) })(timeoutMs);
      return fromStored(loaded, source);
    } catch (error) {
      const problem = isAscCredentialError(error) ? error : new AscCredentialError("SECRET_READ_FAILED", `Secret '${source.name}' could not be read (the AWS SDK failed to load or run).`);
      return { source, keyType: { value: "team" }, problems: [problem] };
    }
  }
  const vaultPath = flag(values, "vault-path");
  if (vaultPath !== undefined) {
    const mount = flag(values, "vault-mount");
    const source = { kind: "vault" as const, name: printable(redact(`${mount ?? "secret"}/${vaultPath}`)), from: "--vault-path" };
    const version = vaultVersion(values);
    try {
      const loaded = await credentialLoader({
        path: vaultPath,
        ...optional("mount", mount),
        ...optional("address", flag(values, "vault-address")),
        ...(version !== undefined ? { version } : {}),
        env: io.env,
      })(timeoutMs);
      return fromStored(loaded, source);
    } catch (error) {
      const problem = isAscCredentialError(error) ? error : new AscCredentialError("SECRET_READ_FAILED", `Vault secret '${source.name}' could not be read.`);
      return { source, keyType: { value: "team" }, problems: [problem] };
    }
  }
  return resolveCredential({
    ...optional("key", flag(values, "key")),
    ...optional("keyEnv", flag(values, "key-env")),
    ...optional("keyId", flag(values, "key-id")),
    ...optional("issuerId", flag(values, "issuer-id")),
    ...(values.individual === true ? { keyType: "individual" } : {}),
    env: io.env,
    readTimeoutMs: timeoutMs,
  });
}

/**
 * The validated credential the flags name; the permission warning for a readable key file goes to
 * stderr.
 * @throws AscCredentialError: the first problem of the resolution or of the credential.
 */
export async function credentialFromFlags(values: Values, io: Io): Promise<LoadedCredential> {
  const resolved = await resolveFromFlags(values, io);
  warnIfReadable(resolved, io);
  return loadResolved(resolved);
}

/**
 * The private key the flags name, parsed; identifiers are not needed (nor checked).
 * @throws AscCredentialError: a problem reading the key, or the key's own `KEY_*` error.
 */
export async function keyFromFlags(values: Values, io: Io): Promise<ParsedPrivateKey> {
  const resolved = await resolveFromFlags(values, io);
  warnIfReadable(resolved, io);
  const problem = resolved.problems.find((p) => p.field === "privateKey" || p.field === undefined);
  if (problem) throw problem;
  if (!resolved.source || !resolved.bytes) return parsePrivateKey("");
  try {
    return parsePrivateKey(new Uint8Array(resolved.bytes));
  } catch (error) {
    throw isAscCredentialError(error) ? new AscCredentialError(error.code, `${describeSource(resolved.source)}: ${error.message}`, error.field) : error;
  }
}

/** `warning: …` on stderr when the key file can be read by others than its owner. */
export function warnIfReadable(resolved: ResolvedCredential, io: Io): void {
  const problem = permissionProblem(resolved);
  if (problem) io.err(`asc-credential: warning: ${scrubbed(`${problem.message}; fix: ${problem.fix}`, io)}\n`);
}

/** The key file's mode, in words, when group or others may read it. */
export function permissionProblem(resolved: ResolvedCredential): { message: string; fix: string } | undefined {
  if (resolved.source?.kind !== "file" || resolved.mode === undefined || process.platform === "win32") return undefined;
  const open = resolved.mode & 0o077;
  if (open === 0) return undefined;
  return {
    message: `the key file '${resolved.source.name}' is readable ${open & 0o007 ? "by every user" : "by its group"} (mode ${(resolved.mode & 0o777).toString(8)})`,
    fix: `chmod 600 ${shellQuote(resolved.source.name)}`,
  };
}

function fromStored(loaded: LoadedCredential, source: ResolvedCredential["source"] & object): ResolvedCredential {
  const from = "the secret";
  return {
    source,
    bytes: Buffer.from(loaded.privateKey),
    keyId: { value: loaded.keyId, from },
    ...(loaded.issuerId !== undefined ? { issuerId: { value: loaded.issuerId, from } } : {}),
    keyType: { value: loaded.keyType, from },
    problems: [],
  };
}

function optional<K extends string>(name: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [name]: value } as Record<K, string>);
}
