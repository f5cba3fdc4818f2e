import { AscCredentialError } from "../core/errors";
import { STORED_CREDENTIAL_SCHEMA_VERSION } from "../core/stored-credential";
import { checkCredential, type LoadedCredential } from "./credential";

/**
 * Parses and validates the stored secret JSON. `where` names the secret in messages (its ID,
 * never its content).
 *
 * @throws {@link AscCredentialError} `SECRET_FORMAT_INVALID` when the text is not the stored
 * JSON or has another `schemaVersion`; the key's own code (`KEY_*`, `ISSUER_ID_*`) when the
 * credential inside is invalid.
 */
export function parseStoredSecret(text: string, where: string): LoadedCredential {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw formatError(where, `is not JSON (${text.length} characters)`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw formatError(where, `holds JSON ${value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`}, not an object`);
  }
  const record = value as Record<string, unknown>;
  const version = record.schemaVersion;
  if (version !== STORED_CREDENTIAL_SCHEMA_VERSION) {
    const seen = version === undefined ? "no schemaVersion" : typeof version === "number" && Number.isInteger(version) && Math.abs(version) < 1e6 ? `schemaVersion ${version}` : `a schemaVersion that is a ${typeof version}`;
    throw formatError(where, `has ${seen}; this package reads schemaVersion ${STORED_CREDENTIAL_SCHEMA_VERSION}. Upgrade pulumi-asc-credential if the secret was written by a newer version`);
  }
  for (const field of ["keyType", "keyId", "privateKey", "fingerprint"] as const) {
    if (typeof record[field] !== "string") throw formatError(where, `has ${record[field] === undefined ? "no" : "a non-string"} "${field}" field`);
  }
  if (record.issuerId !== undefined && typeof record.issuerId !== "string") throw formatError(where, `has a non-string "issuerId" field`);
  const keyType = record.keyType as string;
  if (keyType !== "team" && keyType !== "individual") throw formatError(where, `has keyType that is neither "team" nor "individual"`);

  const credential = {
    keyType,
    keyId: record.keyId as string,
    privateKey: record.privateKey as string,
    ...(typeof record.issuerId === "string" ? { issuerId: record.issuerId } : {}),
  } as const;
  const loaded = checkCredential(credential, where);
  if (loaded.fingerprint !== record.fingerprint) {
    // Fingerprints are of the public key: safe to show, and what `pulumi stack output` shows.
    throw formatError(where, `records fingerprint ${safeFingerprint(record.fingerprint as string)} but its key's fingerprint is ${loaded.fingerprint}: the secret was edited outside pulumi-asc-credential`);
  }
  return loaded;
}

function formatError(where: string, what: string): AscCredentialError {
  return new AscCredentialError(
    "SECRET_FORMAT_INVALID",
    `${where} ${what}. It must hold the JSON pulumi-asc-credential writes: {"schemaVersion":1,"keyType","keyId","issuerId","privateKey","fingerprint"}; write it with the AppStoreConnectApiKey component rather than by hand.`,
  );
}

function safeFingerprint(text: string): string {
  return /^sha256:[0-9a-f]{64}$/.test(text) ? text : "a value that is not a sha256 fingerprint";
}
