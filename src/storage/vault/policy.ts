/**
 * The Vault reader policy and the names derived from the secret's place. Pure: no Pulumi.
 * @packageDocumentation
 */

/**
 * The reader policy (HCL): `read` on the secret's KV v2 data path and nothing else. Reading any
 * version (`?version=N`, for the key before a rotation) needs only this; the metadata path
 * (version lists, custom metadata, deletion) is left out, and so are `list`, writes and deletes.
 * `mount` and `path` must have passed `checkVaultMount` / `checkVaultPath` (no globs, no quotes).
 */
export function readerPolicyText(mount: string, path: string): string {
  return [
    `# Read the App Store Connect API key stored at ${mount}/${path} by pulumi-asc-credential.`,
    `# KV v2 serves every version of it at this path (?version=N); nothing else is granted.`,
    `path "${mount}/data/${path}" {`,
    `  capabilities = ["read"]`,
    `}`,
    ``,
  ].join("\n");
}

/** 32-bit FNV-1a as 8 hex digits: tells names apart, not a security measure. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/**
 * The default name of the reader policy and of the auth roles bound to it, unique per secret:
 * `asc-reader-<mount>-<path>-<hash>`, lower-case (Vault lower-cases policy names), slash-free (an
 * AppRole role name is a URL segment). The hash keeps `a/b-c` and `a-b/c`, or `Ci` and `ci`, apart.
 */
export function defaultReaderName(mount: string, path: string): string {
  const flat = `${mount}/${path}`.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-").slice(0, 80);
  return `asc-reader-${flat}-${fnv1a(`${mount}/${path}`)}`;
}
