/**
 * Every stable error code, in the README table's order. Codes are part of the public contract:
 * tools and tests match on them, so a code is never renamed or reused for another meaning.
 *
 * The first group covers the key, its identifiers, tokens, Apple's API and options; the rest
 * cover the key type, roles, readers, the stores, the sources, export's output and Vault.
 */
export const ERROR_CODES = [
  "KEY_EMPTY",
  "KEY_MALFORMED",
  "KEY_ENCRYPTED",
  "KEY_IS_PUBLIC",
  "KEY_NOT_EC",
  "KEY_WRONG_CURVE",
  "KEY_AMBIGUOUS",
  "KEY_ID_INVALID",
  "KEY_ID_LOOKS_LIKE_NAME",
  "KEY_ID_FILENAME_MISMATCH",
  "ISSUER_ID_MISSING",
  "ISSUER_ID_INVALID",
  "ISSUER_ID_LOOKS_LIKE_TEAM_ID",
  "ISSUER_ID_FOR_INDIVIDUAL_KEY",
  "TOKEN_LIFETIME_INVALID",
  "SCOPE_INVALID",
  "API_UNAUTHORIZED",
  "API_FORBIDDEN",
  "API_UNREACHABLE",
  "API_UNEXPECTED",
  "OPTION_INVALID",
  "KEY_TYPE_INVALID",
  "ROLE_INVALID",
  "ROLE_ADMIN_NOT_ALLOWED",
  "READER_INVALID",
  "READER_OTHER_ACCOUNT",
  "KMS_KEY_ARN_INVALID",
  "SOURCE_CONFLICT",
  "OUTPUT_INVALID",
  "OUTPUT_EXISTS",
  "SECRET_NOT_FOUND",
  "SECRET_FORMAT_INVALID",
  "SECRET_READ_FAILED",
  "VAULT_ADDRESS_INVALID",
  "VAULT_MOUNT_INVALID",
  "VAULT_PATH_INVALID",
  "VAULT_BINDING_INVALID",
  "VAULT_MOUNT_NOT_KV2",
  "VAULT_UNREACHABLE",
  "VAULT_SEALED",
  "VAULT_PERMISSION_DENIED",
  "VAULT_LOGIN_FAILED",
] as const;

/** A stable, machine-readable error code: one of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The credential fields a validation issue can point at. */
export type CredentialField = "keyId" | "issuerId" | "privateKey" | "keyType";

/**
 * The one error type this package throws, for bad credentials, options, API answers, stores and
 * stored secrets. `message` names the field, what was seen (in words) and the fix; it never
 * contains key material or a token.
 */
export class AscCredentialError extends Error {
  /** Stable, machine-readable code. */
  readonly code: ErrorCode;
  /** The input field or option at fault, when there is one. */
  readonly field?: string;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = "AscCredentialError";
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}

/** True for an {@link AscCredentialError}, also across duplicated copies of this package. */
export function isAscCredentialError(value: unknown): value is AscCredentialError {
  return (
    value instanceof AscCredentialError ||
    (value instanceof Error &&
      value.name === "AscCredentialError" &&
      typeof (value as { code?: unknown }).code === "string")
  );
}
