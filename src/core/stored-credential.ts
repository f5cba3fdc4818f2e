import type { KeyType } from "./identifiers";

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
 * caller passes the normalised PEM; nothing is parsed or checked here.
 */
export function formatStoredCredential(c: {
  keyType: KeyType;
  keyId: string;
  issuerId?: string | undefined;
  privateKey: string;
  fingerprint: string;
}): string {
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
