import type { CredentialField, ErrorCode } from "./errors";
import { quote } from "./redact";

/** One problem found in a credential. */
export interface ValidationIssue {
  field: CredentialField;
  code: ErrorCode;
  /** Names the field, says what was seen and how to fix it. Never contains key material. */
  message: string;
}

/** Team keys act for the whole team; individual keys act for one user. */
export type KeyType = "team" | "individual";

const KEY_ID = /^[A-Z0-9]{10}$/;
const ISSUER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Apple's download name, also as browsers rename a second download: "AuthKey_X (1).p8", "AuthKey_X(1).p8", "AuthKey_X-1.p8".
const AUTH_KEY_FILE = /^AuthKey_([A-Za-z0-9]+)(\s?\(\d{1,3}\)|-\d{1,3})?\.p8$/;
/** Where App Store Connect shows Key IDs and the Issuer ID; messages point users there. */
export const KEYS_PAGE = "App Store Connect > Users and Access > Integrations > App Store Connect API";

/** The Key ID Apple put in an `AuthKey_<KEYID>.p8` file name (any directory), or undefined. */
export function keyIdFromFileName(path: string): string | undefined {
  return AUTH_KEY_FILE.exec(path.split(/[\\/]/).pop() ?? path)?.[1];
}

/**
 * When a browser renamed a second download (`AuthKey_X (1).p8`): the name tools that find keys by
 * name (altool, codemagic) expect instead. Undefined for Apple's own name or any other.
 */
export function renamedKeyFile(path: string): string | undefined {
  const match = AUTH_KEY_FILE.exec(path.split(/[\\/]/).pop() ?? path);
  return match?.[2] ? `AuthKey_${match[1]}.p8` : undefined;
}

function looksLikeKeyMaterial(value: string): boolean {
  return value.includes("-----BEGIN") || value.length > 100;
}

/** Checks a Key ID (the JWT `kid`). Returns no issue when it is well formed. */
export function checkKeyId(keyId: unknown, privateKeyFileName?: string): ValidationIssue[] {
  const field = "keyId";
  if (typeof keyId !== "string" || keyId.trim() === "") {
    return [{ field, code: "KEY_ID_INVALID", message: `keyId is ${typeof keyId === "string" ? "empty" : "missing"}. Copy the 10-character Key ID (like 2X9R4HXF34) from the key's row in ${KEYS_PAGE}.` }];
  }
  if (looksLikeKeyMaterial(keyId)) {
    return [{ field, code: "KEY_ID_INVALID", message: `keyId holds ${keyId.includes("-----BEGIN") ? "what looks like a private key" : `a value of ${keyId.length} characters`}, not a Key ID. Put the key in privateKey and the 10-character Key ID (like 2X9R4HXF34) in keyId.` }];
  }
  const issues: ValidationIssue[] = [];
  if (!KEY_ID.test(keyId)) {
    const trimmed = keyId.trim();
    if (trimmed !== keyId && KEY_ID.test(trimmed)) {
      issues.push({ field, code: "KEY_ID_INVALID", message: `keyId ${quote(trimmed)} has leading or trailing whitespace. Remove it: the Key ID goes into the token header byte for byte.` });
    } else if (ISSUER_ID.test(trimmed)) {
      issues.push({ field, code: "KEY_ID_INVALID", message: `keyId ${quote(trimmed)} is a UUID: that is the Issuer ID, not a Key ID. Put it in issuerId, and use the 10-character Key ID (like 2X9R4HXF34) from the key's row in ${KEYS_PAGE} as keyId.` });
    } else if (/^[a-z0-9]{10}$/i.test(trimmed)) {
      issues.push({ field, code: "KEY_ID_INVALID", message: `keyId ${quote(keyId)} has lower-case letters; Key IDs are upper-case (use ${quote(trimmed.toUpperCase())}).` });
    } else if (/[\s_-]/.test(trimmed) || /[a-z]{3,}/.test(trimmed)) {
      issues.push({ field, code: "KEY_ID_LOOKS_LIKE_NAME", message: `keyId ${quote(keyId)} looks like the key's name as shown in App Store Connect, not its Key ID. Use the 10-character Key ID (like 2X9R4HXF34) from the key's row in ${KEYS_PAGE}; it is also in the file name AuthKey_<KEYID>.p8.` });
    } else {
      issues.push({ field, code: "KEY_ID_INVALID", message: `keyId ${quote(keyId)} is not a Key ID: expected exactly 10 upper-case letters and digits (like 2X9R4HXF34), got ${trimmed.length} characters${/[^A-Za-z0-9]/.test(trimmed) ? " including other symbols" : ""}. Copy it from ${KEYS_PAGE}.` });
    }
  }
  if (privateKeyFileName !== undefined) {
    const base = privateKeyFileName.split(/[\\/]/).pop() ?? privateKeyFileName;
    const fromFile = keyIdFromFileName(base);
    if (fromFile !== undefined && fromFile.toUpperCase() !== keyId.trim().toUpperCase()) {
      issues.push({ field, code: "KEY_ID_FILENAME_MISMATCH", message: `keyId ${quote(keyId)} does not match the key file ${quote(base)}, which Apple named after Key ID ${quote(fromFile)}. Either keyId or the key file belongs to another key: use the pair from the same row in ${KEYS_PAGE}.` });
    }
  }
  return issues;
}

/** Checks a key type value. */
export function checkKeyType(keyType: unknown): ValidationIssue[] {
  if (keyType === undefined || keyType === "team" || keyType === "individual") return [];
  return [{ field: "keyType", code: "KEY_TYPE_INVALID", message: `keyType ${typeof keyType === "string" ? quote(keyType) : `of type ${typeof keyType}`} is not a key type. Use "team" for keys from ${KEYS_PAGE} > Team Keys, or "individual" for a user's own key.` }];
}

/** Checks the Issuer ID against the key type. */
export function checkIssuerId(issuerId: unknown, keyType: KeyType, keyId?: unknown): ValidationIssue[] {
  const field = "issuerId";
  const absent = issuerId === undefined || issuerId === null || (typeof issuerId === "string" && issuerId.trim() === "");
  if (keyType === "individual") {
    return absent
      ? []
      : [{ field, code: "ISSUER_ID_FOR_INDIVIDUAL_KEY", message: `issuerId is set, but individual keys carry no Issuer ID: their tokens use sub "user" instead of iss, and Apple answers 401 to a token with iss. Remove issuerId, or set keyType "team" if this is a team key.` }];
  }
  if (absent) {
    return [{ field, code: "ISSUER_ID_MISSING", message: `issuerId is missing; team keys need the Issuer ID (a UUID like 57246542-96fe-1a63-e053-0824d011072a) shown at the top of ${KEYS_PAGE}. For an individual key set keyType "individual".` }];
  }
  if (typeof issuerId !== "string") {
    return [{ field, code: "ISSUER_ID_INVALID", message: `issuerId must be a string, but a value of type ${typeof issuerId} was given. Use the Issuer ID UUID shown at the top of ${KEYS_PAGE}.` }];
  }
  if (looksLikeKeyMaterial(issuerId)) {
    return [{ field, code: "ISSUER_ID_INVALID", message: `issuerId holds ${issuerId.includes("-----BEGIN") ? "what looks like a private key" : `a value of ${issuerId.length} characters`}, not an Issuer ID. Put the key in privateKey and the Issuer ID UUID from ${KEYS_PAGE} in issuerId.` }];
  }
  if (ISSUER_ID.test(issuerId)) return [];
  const trimmed = issuerId.trim();
  if (ISSUER_ID.test(trimmed)) {
    return [{ field, code: "ISSUER_ID_INVALID", message: `issuerId ${quote(trimmed)} has leading or trailing whitespace. Remove it: the Issuer ID goes into the token byte for byte.` }];
  }
  if (KEY_ID.test(trimmed)) {
    const isKeyId = typeof keyId === "string" && keyId.trim() === trimmed;
    return [{ field, code: "ISSUER_ID_LOOKS_LIKE_TEAM_ID", message: `issuerId ${quote(trimmed)} is 10 upper-case letters and digits: that is ${isKeyId ? "the Key ID" : "an Apple Team ID (or a Key ID)"}, not the Issuer ID. Use the UUID (like 57246542-96fe-1a63-e053-0824d011072a) shown at the top of ${KEYS_PAGE}.` }];
  }
  if (trimmed.includes("@")) {
    return [{ field, code: "ISSUER_ID_INVALID", message: `issuerId looks like an e-mail address; the Issuer ID is not your Apple Account e-mail. Copy the Issuer ID, a UUID like 57246542-96fe-1a63-e053-0824d011072a, from the top of ${KEYS_PAGE}.` }];
  }
  return [{ field, code: "ISSUER_ID_INVALID", message: `issuerId ${quote(trimmed)} is not an Issuer ID: expected a UUID of 8-4-4-4-12 hexadecimal digits (like 57246542-96fe-1a63-e053-0824d011072a). Copy it from the top of ${KEYS_PAGE}.` }];
}
