import type { KeyObject } from "node:crypto";
import { AscCredentialError, isAscCredentialError } from "./errors";
import { checkIssuerId, checkKeyId, checkKeyType, type KeyType, type ValidationIssue } from "./identifiers";
import { parsePrivateKeyObject, type ParsedPrivateKey } from "./private-key";

/** An App Store Connect API credential as the user supplies it. */
export interface CredentialInput {
  /** The 10-character Key ID, e.g. `2X9R4HXF34`. Goes into the JWT `kid`. */
  keyId: string;
  /** The team's Issuer ID (a UUID). Required for team keys, absent for individual keys. */
  issuerId?: string;
  /** The private key in any form {@link parsePrivateKey} accepts. */
  privateKey: string | Uint8Array;
  /** Defaults to `"team"`. */
  keyType?: KeyType;
  /** The key's file name, when it came from one, to cross-check `AuthKey_<KEYID>.p8`. */
  privateKeyFileName?: string;
}

/** The outcome of {@link validateCredential}. */
export interface ValidationResult {
  /** True when there are no issues. */
  ok: boolean;
  /** Every problem found, each on its field. */
  issues: ValidationIssue[];
  /** The parsed key, when the private key itself is valid (even if other fields are not). */
  key?: ParsedPrivateKey;
}

/**
 * Checks every field of a credential and reports all problems at once, so one run shows
 * everything to fix. Never throws on bad input.
 */
export function validateCredential(credential: CredentialInput): ValidationResult {
  return validateWithKeyObject(credential).result;
}

/**
 * {@link validateCredential} that also hands back the imported key for signing.
 * @internal
 */
export function validateWithKeyObject(credential: CredentialInput): { result: ValidationResult; keyObject?: KeyObject; privateKey?: unknown } {
  const input: Partial<CredentialInput> = credential !== null && typeof credential === "object" ? credential : {};
  const issues: ValidationIssue[] = [];
  const keyTypeIssues = checkKeyType(input.keyType);
  issues.push(...keyTypeIssues);
  const keyType: KeyType = input.keyType === "individual" ? "individual" : "team";
  issues.push(...checkKeyId(input.keyId, typeof input.privateKeyFileName === "string" ? input.privateKeyFileName : undefined));
  if (keyTypeIssues.length === 0) issues.push(...checkIssuerId(input.issuerId, keyType, input.keyId));

  let key: ParsedPrivateKey | undefined;
  let keyObject: KeyObject | undefined;
  // Read once: the key imported and the value a caller caches it under must be the same one.
  const privateKey: unknown = input.privateKey;
  if (privateKey === undefined || privateKey === null) {
    issues.push({ field: "privateKey", code: "KEY_EMPTY", message: "privateKey is missing. Pass the contents of the AuthKey_<KEYID>.p8 file App Store Connect let you download." });
  } else {
    try {
      ({ parsed: key, keyObject } = parsePrivateKeyObject(privateKey as CredentialInput["privateKey"]));
    } catch (error) {
      issues.push(toIssue(error));
    }
  }
  const result: ValidationResult = { ok: issues.length === 0, issues };
  if (key) result.key = key;
  return keyObject ? { result, keyObject, privateKey } : { result };
}

function toIssue(error: unknown): ValidationIssue {
  if (isAscCredentialError(error)) return { field: "privateKey", code: error.code, message: error.message };
  // An unexpected failure inside node:crypto: its text is not ours to show (it could echo input).
  return { field: "privateKey", code: "KEY_MALFORMED", message: "privateKey could not be read as a key. Pass the contents of the AuthKey_<KEYID>.p8 file App Store Connect let you download." };
}

/**
 * The one way a validation issue becomes an error: its code, field and message, the message
 * prefixed with where the credential came from when given.
 */
export function issueError(issue: ValidationIssue, where?: string): AscCredentialError {
  return new AscCredentialError(issue.code, where ? `${where}: ${issue.message}` : issue.message, issue.field);
}

/** Throws the first issue of a failed validation. */
export function assertValid(result: ValidationResult, where?: string): asserts result is ValidationResult & { key: ParsedPrivateKey } {
  const first = result.issues[0];
  if (first) throw issueError(first, where);
  if (!result.key) throw issueError({ field: "privateKey", code: "KEY_MALFORMED", message: "privateKey could not be read as a key." }, where);
}
