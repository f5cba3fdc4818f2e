/**
 * Where a stored credential can be read from, and the one function that reads it. The token
 * source, `readCredential` and the CLI all read through here.
 * @packageDocumentation
 */
import { AscCredentialError } from "../core/errors";
import { checkTimeoutMs, describeSeen, optionError } from "../core/options";
import { quote } from "../core/redact";
import { STORED_CREDENTIAL_SCHEMA_VERSION, type StoredCredential } from "../core/stored-credential";
import type { KeyType } from "../core/identifiers";
import type { LoadedCredential } from "./credential";
import { DEFAULT_READ_TIMEOUT_MS } from "./read-bounded";
import { loadResolved, resolveCredential, type ExplicitNames } from "./resolve";
import { defaultSecretsManagerClient, readStoredSecret, type SecretsManagerLike } from "./secrets-manager";
import { vaultLoader, type VaultSource } from "./vault";

/** The credential the `AppStoreConnectApiKey` component stored in Secrets Manager. */
export interface SecretsManagerSource {
  /** The secret's name or ARN (the component's `secretArn` output). */
  secretId: string;
  /** A staging label, e.g. `"AWSPREVIOUS"`; default `AWSCURRENT`. */
  versionStage?: string;
  /** A configured `SecretsManagerClient` (or anything with its `send`); default one from the default AWS configuration. */
  client?: SecretsManagerLike;
  /** The region of the default client; default the AWS configuration's. */
  region?: string;
  /** The longest the read may take, in ms (1 to 120 000); default 10 000. */
  timeoutMs?: number;
}

/** A credential in environment variables (README "Where a key is found"). */
export interface EnvSource {
  env: Readonly<Record<string, string | undefined>>;
  /** The longest a key file named by a variable may take to read, in ms; default 10 000. */
  timeoutMs?: number;
}

/** A key file and the identifiers that go with it. */
export interface FileSource {
  /** The `.p8` file's path. */
  file: string;
  /** Default: the `<KEYID>` of an `AuthKey_<KEYID>.p8` file name. */
  keyId?: string;
  /** Required for team keys. */
  issuerId?: string;
  /** Default `"team"`. */
  keyType?: KeyType;
  /** The longest the read may take, in ms; default 10 000. */
  timeoutMs?: number;
}

/** Any source {@link readCredential} and `AscTokenSource` read. */
export type CredentialSource = SecretsManagerSource | VaultSource | EnvSource | FileSource;

/**
 * Reads the credential from `source` and validates it: key ID, issuer ID, key type, the
 * normalised PKCS#8 PEM and its fingerprint, in the stored format.
 * @throws {@link AscCredentialError}: `OPTION_INVALID` for a source that is none of these,
 * `SECRET_*` (and `VAULT_*` for Vault) for a read that fails (within its timeout), `KEY_*`/`ISSUER_ID_*` for a credential
 * that is invalid; never the credential's content.
 */
export async function readCredential(source: CredentialSource): Promise<StoredCredential> {
  const timeoutMs = checkTimeoutMs((source as { timeoutMs?: unknown } | undefined)?.timeoutMs, DEFAULT_READ_TIMEOUT_MS);
  const loaded = await credentialLoader(source)(timeoutMs);
  return { schemaVersion: STORED_CREDENTIAL_SCHEMA_VERSION, ...loaded };
}

// A file source's messages name its options, not the CLI's flags.
const FILE_SOURCE_NAMES: ExplicitNames = { key: "file", keyId: "keyId", issuerId: "issuerId", keyType: "keyType" };

/**
 * A function that reads `source` anew on each call (within the timeout it is given).
 * @throws AscCredentialError `OPTION_INVALID` at once for a source of no known kind.
 * @internal
 */
export function credentialLoader(source: CredentialSource): (timeoutMs: number) => Promise<LoadedCredential> {
  if (source !== null && typeof source === "object") {
    if ("secretId" in source) {
      const { secretId, versionStage, client, region } = source;
      if (typeof secretId !== "string" || secretId.trim() === "") {
        throw optionError("secretId", typeof secretId === "string" ? "empty" : describeSeen(secretId), "the secret's name or ARN (the component's secretArn output)");
      }
      if (versionStage !== undefined && (typeof versionStage !== "string" || !/^[\w.-]{1,256}$/.test(versionStage))) {
        throw optionError("versionStage", typeof versionStage === "string" ? quote(versionStage) : describeSeen(versionStage), 'a staging label such as "AWSCURRENT" or "AWSPREVIOUS"');
      }
      let shared: SecretsManagerLike | undefined = client;
      return (timeoutMs) => {
        shared ??= defaultSecretsManagerClient(timeoutMs, region);
        return readStoredSecret(shared, { secretId, ...(versionStage ? { versionStage } : {}) }, timeoutMs);
      };
    }
    if ("path" in source) return vaultLoader(source);
    if ("file" in source) {
      if (typeof source.file !== "string" || source.file === "") throw optionError("file", describeSeen(source.file), "the path of the AuthKey_<KEYID>.p8 file");
      const { file, keyId, issuerId, keyType } = source;
      return async (timeoutMs) =>
        loadResolved(await resolveCredential({ key: file, ...(keyId !== undefined ? { keyId } : {}), ...(issuerId !== undefined ? { issuerId } : {}), ...(keyType !== undefined ? { keyType } : {}), env: {}, readTimeoutMs: timeoutMs, names: FILE_SOURCE_NAMES }));
    }
    if ("env" in source && source.env !== null && typeof source.env === "object") {
      const env = source.env;
      return async (timeoutMs) => loadResolved(await resolveCredential({ env, readTimeoutMs: timeoutMs }));
    }
  }
  throw new AscCredentialError("OPTION_INVALID", "source must be { secretId }, { path } (Vault), { env } or { file }: where the credential is stored (README \"Runtime: AscTokenSource\").", "source");
}
