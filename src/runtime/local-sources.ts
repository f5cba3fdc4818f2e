import { readFile } from "node:fs";
import { basename } from "node:path";
import { AscCredentialError } from "../core/errors";
import { keyIdFromFileName, type KeyType } from "../core/identifiers";
import { checkCredential, type LoadedCredential } from "./credential";

/** The environment variables {@link loadFromEnv} reads. */
export const ENV = {
  keyId: "APP_STORE_CONNECT_KEY_ID",
  issuerId: "APP_STORE_CONNECT_ISSUER_ID",
  privateKey: "APP_STORE_CONNECT_PRIVATE_KEY",
  privateKeyPath: "APP_STORE_CONNECT_PRIVATE_KEY_PATH",
  keyType: "APP_STORE_CONNECT_KEY_TYPE",
} as const;

/** Identifiers that go with a key file. */
export interface KeyFileOptions {
  /** Default: the `<KEYID>` of an `AuthKey_<KEYID>.p8` file name. */
  keyId?: string;
  /** Required for team keys. */
  issuerId?: string;
  /** Default `"team"`. */
  keyType?: KeyType;
}

/** Reads a key file (any accepted key form) and validates it with its identifiers. */
export async function loadFromFile(path: string, options: KeyFileOptions = {}): Promise<LoadedCredential> {
  const where = `Key file ${JSON.stringify(path)}`;
  let bytes: Buffer;
  try {
    bytes = await new Promise<Buffer>((resolve, reject) => readFile(path, (error, data) => (error ? reject(error) : resolve(data))));
  } catch (error) {
    throw fileError(error, where);
  }
  const keyId = options.keyId ?? keyIdFromFileName(path);
  if (keyId === undefined) {
    throw new AscCredentialError("KEY_ID_INVALID", `${where}: keyId is missing and the file is not named AuthKey_<KEYID>.p8. Pass keyId (the 10-character Key ID shown next to the key in App Store Connect).`, "keyId");
  }
  return checkCredential(
    {
      keyId,
      privateKey: new Uint8Array(bytes),
      privateKeyFileName: basename(path),
      ...(options.keyType ? { keyType: options.keyType } : {}),
      ...(options.issuerId !== undefined ? { issuerId: options.issuerId } : {}),
    },
    where,
  );
}

/**
 * Reads the credential from `APP_STORE_CONNECT_*` variables: `KEY_ID`, `ISSUER_ID`,
 * `PRIVATE_KEY` (any accepted form, e.g. PEM with literal `\n`, or base64) or else
 * `PRIVATE_KEY_PATH`, and optionally `KEY_TYPE` (`team` or `individual`). When `PRIVATE_KEY` is
 * set, `PRIVATE_KEY_PATH` is ignored. With only a path, `KEY_ID` may be left out if the file is
 * named `AuthKey_<KEYID>.p8`.
 */
export async function loadFromEnv(env: NodeJS.ProcessEnv): Promise<LoadedCredential> {
  const keyType = env[ENV.keyType] || undefined;
  if (keyType !== undefined && keyType !== "team" && keyType !== "individual") {
    throw new AscCredentialError("KEY_TYPE_INVALID", `${ENV.keyType} must be "team" or "individual" (or unset, meaning team).`, "keyType");
  }
  const keyId = env[ENV.keyId] || undefined;
  const issuerId = env[ENV.issuerId] || undefined;
  const inline = env[ENV.privateKey];
  const path = env[ENV.privateKeyPath];
  if (inline !== undefined && inline.trim() !== "") {
    if (keyId === undefined) {
      throw new AscCredentialError("KEY_ID_INVALID", `Environment: ${ENV.keyId} is not set. Set it to the 10-character Key ID (like 2X9R4HXF34) shown next to the key in App Store Connect.`, "keyId");
    }
    return checkCredential(
      { keyId, privateKey: inline, ...(keyType ? { keyType } : {}), ...(issuerId !== undefined ? { issuerId } : {}) },
      `Environment (APP_STORE_CONNECT_*)`,
    );
  }
  if (path !== undefined && path.trim() !== "") {
    return loadFromFile(path, { ...(keyId ? { keyId } : {}), ...(issuerId ? { issuerId } : {}), ...(keyType ? { keyType } : {}) });
  }
  throw new AscCredentialError("KEY_EMPTY", `Environment: neither ${ENV.privateKey} nor ${ENV.privateKeyPath} is set. Set one of them to the AuthKey_<KEYID>.p8 contents or its path.`, "privateKey");
}

function fileError(error: unknown, where: string): AscCredentialError {
  const code = (error as { code?: unknown })?.code;
  if (code === "ENOENT") return new AscCredentialError("SECRET_NOT_FOUND", `${where} does not exist. Check the path; App Store Connect names the download AuthKey_<KEYID>.p8.`, "privateKey");
  const name = typeof code === "string" ? code : "an unknown error";
  const fix = code === "EACCES" ? "Make it readable by this user (it should be chmod 600 and owned by the user running this)." : code === "EISDIR" ? "Point at the .p8 file, not its directory." : "Check the path and permissions.";
  return new AscCredentialError("SECRET_READ_FAILED", `${where} could not be read (${name}). ${fix}`, "privateKey");
}
