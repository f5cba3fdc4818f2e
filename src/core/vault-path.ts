/**
 * The shape of a Vault KV v2 mount, secret path and namespace, checked the same way where a
 * component writes them (policy text, the secret's name) and where the runtime reads them (a URL).
 * Pure: no Vault, no network.
 * @packageDocumentation
 */
import { AscCredentialError, type ErrorCode } from "./errors";
import { describeSeen } from "./options";
import { quote } from "./redact";

/** The KV v2 mount every Vault dev server has, and the default of both sides. */
export const DEFAULT_VAULT_KV_MOUNT = "secret";
/** Where the AppRole auth method is mounted unless told otherwise, on both sides. */
export const DEFAULT_VAULT_APPROLE_MOUNT = "approle";
/** Where the JWT auth method is mounted unless told otherwise, on both sides. */
export const DEFAULT_VAULT_JWT_MOUNT = "jwt";

/** The longest Vault token, secret ID or JWT accepted or obtained; real ones are well under 2 KiB. */
export const MAX_VAULT_SECRET_LENGTH = 16_384;

/** The environment variables a Vault token is read from: Vault's, then OpenBao's. */
export const VAULT_TOKEN_VARIABLES = ["VAULT_TOKEN", "BAO_TOKEN"] as const;

// A subset of what Vault accepts: nothing a policy path reads as a glob (`*`, `+`), nothing HCL
// reads as the end of a string or an interpolation (`"`, `\`, `${`), nothing a URL reads as a
// query, a fragment or an escape (`?`, `#`, `%`).
const SEGMENT = /^[A-Za-z0-9._@~-]+$/;
const ALLOWED = "letters, digits and . _ - @ ~ between single slashes";
const MAX_LENGTH = 512;
// Mount paths Vault itself owns: a "secret" there would be an API call of another kind.
const RESERVED_MOUNTS = ["sys", "auth", "identity", "cubbyhole"];

/** Why `value` is not a slash-separated Vault path, in words; `undefined` when it is one. */
function pathProblem(value: string): string | undefined {
  if (value === "") return "is empty";
  if (value.length > MAX_LENGTH) return `is ${value.length} characters long (at most ${MAX_LENGTH})`;
  if (value.startsWith("/")) return "starts with '/'";
  const segments = value.split("/");
  if (segments.some((s) => s === "..")) return "has a '..' segment";
  if (segments.some((s) => s === ".")) return "has a '.' segment";
  if (value.endsWith("/")) return "ends with '/' (a folder, not one secret)";
  if (segments.some((s) => s === "")) return "has an empty segment ('//')";
  if (!segments.every((s) => SEGMENT.test(s))) return `has a character other than ${ALLOWED}`;
  return undefined;
}

function seen(value: unknown): string {
  return typeof value === "string" ? quote(value) : describeSeen(value);
}

function fail(code: ErrorCode, field: string, value: unknown, problem: string, fix: string): never {
  throw new AscCredentialError(code, `${field}: ${seen(value)} ${problem}. ${fix}`, field);
}

/**
 * The KV v2 mount's path, without a trailing slash (`secret/` → `secret`).
 * @throws AscCredentialError `VAULT_MOUNT_INVALID` naming `field`.
 */
export function checkVaultMount(value: unknown, field = "mount"): string {
  const fix = `Give the path the KV v2 secrets engine is mounted at, as \`bao secrets list\` / \`vault secrets list\` shows it (default '${DEFAULT_VAULT_KV_MOUNT}'), using ${ALLOWED}.`;
  if (typeof value !== "string") fail("VAULT_MOUNT_INVALID", field, value, "is not a mount path", fix);
  const mount = value.endsWith("/") && !value.endsWith("//") ? value.slice(0, -1) : value;
  const problem = pathProblem(mount);
  if (problem) fail("VAULT_MOUNT_INVALID", field, value, problem, fix);
  const first = mount.split("/")[0]!;
  if (RESERVED_MOUNTS.includes(first)) fail("VAULT_MOUNT_INVALID", field, value, `is under '${first}/', which Vault reserves for itself`, fix);
  return mount;
}

/**
 * An auth method's mount path (`approle`, `jwt`, `github-actions`, ...), without a trailing slash.
 * @throws AscCredentialError `VAULT_MOUNT_INVALID` naming `field`.
 */
export function checkVaultAuthMount(value: unknown, field: string): string {
  const fix = `Give the path the auth method is enabled at, without the 'auth/' prefix (as \`bao auth list\` shows it), using ${ALLOWED}.`;
  if (typeof value !== "string") fail("VAULT_MOUNT_INVALID", field, value, "is not an auth mount path", fix);
  const mount = value.endsWith("/") && !value.endsWith("//") ? value.slice(0, -1) : value;
  const problem = pathProblem(mount);
  if (problem) fail("VAULT_MOUNT_INVALID", field, value, problem, fix);
  if (mount.split("/")[0] === "auth") fail("VAULT_MOUNT_INVALID", field, value, "starts with 'auth/'", fix);
  return mount;
}

/**
 * The secret's path inside the mount (`app-store-connect/ci`), as the KV v2 API names it between
 * `<mount>/data/` and the end.
 * @throws AscCredentialError `VAULT_PATH_INVALID` naming `field`.
 */
export function checkVaultPath(value: unknown, field = "path"): string {
  const fix = `Give the secret's path relative to its mount, e.g. 'app-store-connect/ci' (the component's path output), using ${ALLOWED}.`;
  if (typeof value !== "string") fail("VAULT_PATH_INVALID", field, value, "is not a secret path", fix);
  const problem = pathProblem(value);
  if (problem) fail("VAULT_PATH_INVALID", field, value, problem, fix);
  const first = value.split("/")[0];
  if (first === "data" || first === "metadata") {
    // The KV v2 API and policies insert `data/` themselves; given twice, the secret would sit at
    // <mount>/data/data/..., which no reader looks at.
    fail("VAULT_PATH_INVALID", field, value, `starts with '${first}/', which KV v2 adds itself`, `Leave it out: path ${quote(value.slice(first.length + 1))} is read at <mount>/data/${value.slice(first.length + 1)}.`);
  }
  return value;
}

/**
 * A Vault Enterprise / OpenBao namespace (`team-a`, `team-a/apps`), without a trailing slash.
 * @throws AscCredentialError `VAULT_PATH_INVALID` naming `field`.
 */
export function checkVaultNamespace(value: unknown, field = "namespace"): string {
  const fix = `Give the namespace as \`bao namespace list\` shows it, e.g. 'team-a', using ${ALLOWED}.`;
  if (typeof value !== "string") fail("VAULT_PATH_INVALID", field, value, "is not a namespace", fix);
  const namespace = value.endsWith("/") && !value.endsWith("//") ? value.slice(0, -1) : value;
  const problem = pathProblem(namespace);
  if (problem) fail("VAULT_PATH_INVALID", field, value, problem, fix);
  return namespace;
}
