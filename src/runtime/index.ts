/**
 * `pulumi-asc-credential/runtime`: the consumer side (core, the probe, the token source),
 * importable without any `@pulumi/*` package. The AWS SDK and jose load only when a code path
 * needs them.
 * @packageDocumentation
 */
export {
  ASC_AUDIENCE,
  AscCredentialError,
  clearSigningKeyCache,
  createToken,
  DEFAULT_TOKEN_LIFETIME_SECONDS,
  ERROR_CODES,
  fingerprintOfSpki,
  formatStoredCredential,
  isAscCredentialError,
  MAX_TOKEN_LIFETIME_SECONDS,
  parsePrivateKey,
  STORED_CREDENTIAL_SCHEMA_VERSION,
  validateCredential,
  MAX_TIMEOUT_MS,
  type CredentialField,
  type CredentialInput,
  type ErrorCode,
  type KeyType,
  type ParsedPrivateKey,
  type StoredCredential,
  type TokenOptions,
  type ValidationIssue,
  type ValidationResult,
} from "../core";
export {
  CLOCK_SKEW_WARNING_SECONDS,
  DEFAULT_ASC_BASE_URL,
  DEFAULT_PROBE_RETRIES,
  DEFAULT_PROBE_RETRY_BASE_DELAY_MS,
  DEFAULT_PROBE_TIMEOUT_MS,
  MAX_CLOCK_ADJUSTMENT_SECONDS,
  MAX_PROBE_RETRIES,
  type ProbeError,
  type ProbeOptions,
  type ProbeResult,
} from "../apple/options";
export { probeCredential } from "../apple/probe-credential";
export { AscTokenSource, DEFAULT_REFRESH_SECONDS, type FileSourceOptions, type SecretsManagerSourceOptions, type TokenSourceOptions, type VaultSourceOptions } from "./token-source";
export type { VaultAppRoleLogin, VaultJwtLogin, VaultSource } from "./vault";
export { readCredential, type CredentialSource, type EnvSource, type FileSource, type SecretsManagerSource } from "./sources";
export { DEFAULT_READ_TIMEOUT_MS } from "./read-bounded";
export { writeKeyFile, type WriteKeyFileOptions, type WrittenFile } from "./write-key-file";
export type { SecretsManagerLike } from "./secrets-manager";
// Types only: the schema of `asc-credential doctor --json`, for scripts that read it.
export type { CheckStatus, DoctorCheck, DoctorReport } from "../cli/doctor-report";
