import type { KeyType } from "../core/identifiers";
import { rememberSigningKey } from "../core/token";
import { assertValid, issueError, validateWithKeyObject } from "../core/validate";

/**
 * A credential read from some source and checked: the key parsed, the identifiers valid.
 * `privateKey` is the canonical PKCS#8 PEM.
 */
export interface LoadedCredential {
  keyType: KeyType;
  keyId: string;
  issuerId?: string;
  privateKey: string;
  fingerprint: string;
}

/**
 * Validates a credential from any source and returns it in canonical form. Messages are the
 * core's (which never contain key material), prefixed with `where`.
 */
export function checkCredential(
  credential: { keyType?: KeyType; keyId: string; issuerId?: string; privateKey: string | Uint8Array; privateKeyFileName?: string },
  where: string,
): LoadedCredential {
  const { result, keyObject } = validateWithKeyObject(credential);
  assertValid(result, where);
  if (!keyObject) throw issueError({ field: "privateKey", code: "KEY_MALFORMED", message: "privateKey could not be read as a key." }, where);
  const keyType = credential.keyType ?? "team";
  rememberSigningKey(result.key.pem, keyObject, result.key.fingerprint);
  return {
    keyType,
    keyId: credential.keyId,
    privateKey: result.key.pem,
    fingerprint: result.key.fingerprint,
    ...(keyType === "team" && credential.issuerId !== undefined ? { issuerId: credential.issuerId } : {}),
  };
}
