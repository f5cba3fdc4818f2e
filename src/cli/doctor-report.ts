/**
 * The schema of `asc-credential doctor --json`, on its own so that scripts reading the report
 * can import the types from `pulumi-asc-credential/runtime` without the CLI.
 * @packageDocumentation
 */
import type { ErrorCode } from "../core/errors";
import type { KeyType } from "../core/identifiers";

/** Outcome of one check. `warn` and `skip` do not fail the run. */
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

/**
 * One finding of `asc-credential doctor` (JSON schema v1, stable).
 * - `id`: one of `key-source`, `key-permissions`, `private-key`, `key-id`, `issuer-id`,
 *   `signing`, `api`, `clock`; always in this order, `key-permissions` only for key files.
 * - `code`: the {@link ErrorCode} of a failure (also set on some warnings), else null.
 * - `fix`: what to do, for `fail` and `warn`; null for `pass` and `skip`.
 */
export interface DoctorCheck {
  id: string;
  status: CheckStatus;
  code: ErrorCode | null;
  message: string;
  fix: string | null;
}

/**
 * `asc-credential doctor --json` output, schema version 1. Fields are only ever added, never
 * renamed or removed, within a schema version. No field ever holds key material or a token.
 */
export interface DoctorReport {
  schemaVersion: 1;
  /** True when no check has status `fail` (exit code 0, else 1). */
  ok: boolean;
  credential: {
    /**
     * `file` (`--key FILE` or a path variable), `stdin` (`--key -`), `env` (`--key-env` or a key
     * variable), `secretsManager` (`--secret-id`), `vault` (`--vault-path`); null when no key was found.
     */
    keySource: "file" | "env" | "stdin" | "secretsManager" | "vault" | null;
    /** The file path, variable name or secret ID (redacted); null when no key was found. */
    keySourceName: string | null;
    keyId: string | null;
    /** `flag` (`--key-id`), `env` (a variable), `filename` (`AuthKey_<KEYID>.p8`), `store` (the stored secret). */
    keyIdSource: "flag" | "env" | "filename" | "store" | null;
    issuerId: string | null;
    keyType: KeyType;
    /** `sha256:<hex>` of the public key, when the key parsed. */
    fingerprint: string | null;
  };
  /** Present (non-null) with `--online`. */
  online: { baseUrl: string; apiStatus: number | null; clockSkewSeconds: number | null } | null;
  checks: DoctorCheck[];
}

