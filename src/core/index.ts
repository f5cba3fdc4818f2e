export { AscCredentialError, ERROR_CODES, isAscCredentialError, type CredentialField, type ErrorCode } from "./errors";
export type { KeyType, ValidationIssue } from "./identifiers";
export { fingerprintOfSpki, parsePrivateKey, type ParsedPrivateKey } from "./private-key";
export {
  ASC_AUDIENCE,
  clearSigningKeyCache,
  createToken,
  DEFAULT_TOKEN_LIFETIME_SECONDS,
  MAX_TOKEN_LIFETIME_SECONDS,
  type TokenOptions,
} from "./token";
export { formatStoredCredential, STORED_CREDENTIAL_SCHEMA_VERSION, type StoredCredential } from "./stored-credential";
export { validateCredential, type CredentialInput, type ValidationResult } from "./validate";
export { MAX_TIMEOUT_MS } from "./options";
