import type { KeyType } from "./identifiers";
import { describeSeen, optionError } from "./options";

/** The `schemaVersion` this package writes and reads. */
export const STORED_CREDENTIAL_SCHEMA_VERSION = 1;

/**
 * The JSON `AppStoreConnectApiKey` stores in Secrets Manager and `AscTokenSource` reads:
 * `{"schemaVersion":1,"keyType":"team","keyId":"…","issuerId":"…","privateKey":"<PKCS#8 PEM>","fingerprint":"sha256:…"}`
 * (`issuerId` absent for individual keys).
 */
export interface StoredCredential {
  schemaVersion: 1;
  keyType: KeyType;
  keyId: string;
  issuerId?: string;
  /** Normalised PKCS#8 PEM. Secret. */
  privateKey: string;
  /** `sha256:` + hex SHA-256 of the public key's SPKI DER. */
  fingerprint: string;
}

/**
 * Serialises a validated credential in the stored format, keys in the documented order. The
 * caller passes the normalised PEM; only the fields' types are checked here, not the key.
 * @throws AscCredentialError `OPTION_INVALID` for a field of the wrong type.
 */
export function formatStoredCredential(c: {
  keyType: KeyType;
  keyId: string;
  issuerId?: string | undefined;
  privateKey: string;
  fingerprint: string;
}): string {
  const field = (name: string, ok: boolean, range: string): void => {
    if (!ok) throw optionError(name, describeSeen((c as Record<string, unknown> | null | undefined)?.[name]), range);
  };
  field("keyType", c?.keyType === "team" || c?.keyType === "individual", '"team" or "individual"');
  for (const name of ["keyId", "privateKey", "fingerprint"] as const) field(name, typeof c[name] === "string", "a string");
  field("issuerId", c.issuerId === undefined || typeof c.issuerId === "string", "a string, or undefined for an individual key");
  const stored: StoredCredential = {
    schemaVersion: STORED_CREDENTIAL_SCHEMA_VERSION,
    keyType: c.keyType,
    keyId: c.keyId,
    ...(c.keyType === "team" && c.issuerId !== undefined ? { issuerId: c.issuerId } : {}),
    privateKey: c.privateKey,
    fingerprint: c.fingerprint,
  };
  return JSON.stringify(stored);
}
