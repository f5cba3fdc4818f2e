import type { ErrorCode } from "../core/errors";
import { KEYS_PAGE } from "../core/identifiers";

/** The short fix the CLI prints under a failed check, per error code. */
export const FIXES: Partial<Record<ErrorCode, string>> = {
  KEY_EMPTY: "pass the AuthKey_<KEYID>.p8 file App Store Connect let you download",
  KEY_MALFORMED: "use the original AuthKey_<KEYID>.p8 file or its exact contents; if it is lost, revoke the key and create a new one",
  KEY_ENCRYPTED: "decrypt it first (gpg --decrypt for a .p8.gpg copy; openssl pkcs8 -topk8 -nocrypt for an encrypted PKCS#8)",
  KEY_IS_PUBLIC: "pass the private key (AuthKey_<KEYID>.p8), not a public key or certificate",
  KEY_NOT_EC: "App Store Connect keys are EC P-256: pass the AuthKey_<KEYID>.p8 from App Store Connect",
  KEY_WRONG_CURVE: "App Store Connect keys are EC P-256: pass the AuthKey_<KEYID>.p8 from App Store Connect",
  KEY_ID_INVALID: `pass --key-id with the 10-character Key ID from ${KEYS_PAGE} (it is also in the file name AuthKey_<KEYID>.p8)`,
  KEY_ID_LOOKS_LIKE_NAME: `pass --key-id with the Key ID column of ${KEYS_PAGE}, not the key's name`,
  KEY_ID_FILENAME_MISMATCH: "use the Key ID and the key file of the same key (the file is named after its Key ID)",
  ISSUER_ID_MISSING: `pass --issuer-id with the Issuer ID shown at the top of ${KEYS_PAGE}, or --individual for an individual key`,
  ISSUER_ID_INVALID: `pass --issuer-id with the Issuer ID (a UUID) shown at the top of ${KEYS_PAGE}`,
  ISSUER_ID_LOOKS_LIKE_TEAM_ID: `that is a Team ID or Key ID: pass --issuer-id with the Issuer ID (a UUID) at the top of ${KEYS_PAGE}`,
  ISSUER_ID_FOR_INDIVIDUAL_KEY: "drop --issuer-id for an individual key, or drop --individual for a team key",
  KEY_TYPE_INVALID: "use --individual for an individual key, nothing for a team key",
  TOKEN_LIFETIME_INVALID: "pass --lifetime with 1 to 1200 seconds",
  SCOPE_INVALID: 'pass --scope as "METHOD /path", e.g. --scope "GET /v1/apps"',
  API_UNAUTHORIZED: "check that the key ID and issuer ID belong to this key, that the key is not revoked, and this machine's clock",
  API_FORBIDDEN: "the key is revoked or its role lacks access: create a key with the needed role and swap it in",
  API_UNREACHABLE: "check network access to the API (proxy, firewall, DNS) and --base-url",
  API_UNEXPECTED: "check --base-url and any HTTP proxy",
  // These codes come from key files and from secret stores alike: the fix must fit both.
  SECRET_NOT_FOUND: "check the key file's path, or the secret's name or ARN and its AWS region (--region, --version-stage), or the Vault path and mount (--vault-path, --vault-mount)",
  SECRET_READ_FAILED: "a key file: make it readable by this user (chmod 600, owned by this user); a secret: change what the message names (AWS credentials, the reader policy, Vault's token, network access)",
  SECRET_FORMAT_INVALID: "store the credential with the AppStoreConnectApiKey component, which writes the JSON this reads",
  SOURCE_CONFLICT: "keep one source (unset the other variable, or pass the key explicitly with --key)",
  OPTION_INVALID: "see the option's range in the message, or leave the option out for its default",
  KEY_AMBIGUOUS: "pass the one AuthKey_<KEYID>.p8 file of the key you use, alone",
  OUTPUT_INVALID: "pass --out with a directory only you can enter (it is created 0700 if missing)",
  OUTPUT_EXISTS: "remove the file, pass another --out, or add --force to replace it",
  VAULT_ADDRESS_INVALID: "set VAULT_ADDR (or pass --vault-address) to the server, like https://vault.example.com:8200",
  VAULT_MOUNT_INVALID: "pass --vault-mount with the KV v2 mount's name (the component's mount output), like secret",
  VAULT_PATH_INVALID: "pass --vault-path with the secret's path in the mount (the component's path output), like app-store-connect/ci",
  VAULT_MOUNT_NOT_KV2: "pass --vault-mount with a KV version 2 mount (bao secrets list -detailed shows each mount's version)",
  VAULT_UNREACHABLE: "check VAULT_ADDR, the network and the server's certificate (a private CA goes in NODE_EXTRA_CA_CERTS)",
  VAULT_SEALED: "ask the Vault operators to unseal the server; nothing can be read until they do",
  VAULT_PERMISSION_DENIED: "use a token holding the secret's reader policy (the component's readerPolicyName), or log in again",
  VAULT_LOGIN_FAILED: "check the role and its secret ID or JWT (audience, bound claims) against the component's appRoleName / jwtRoleName",
};

/**
 * Where one code covers failures of different inputs, the fix for the input at fault (the
 * error's `field`), ahead of {@link FIXES}.
 */
export const FIELD_FIXES: Partial<Record<ErrorCode, Record<string, string>>> = {
  OUTPUT_INVALID: {
    GITHUB_ENV: "run it in a GitHub Actions step (the runner sets GITHUB_ENV), or use --format env or dotenv elsewhere",
    RUNNER_TEMP: "run it in a GitHub Actions step (the runner sets RUNNER_TEMP), or pass --out DIR",
    HOME: "set HOME to your home directory (an absolute path), or pass --out DIR",
  },
};

/** The fix line for an error: its field's, else its code's. */
export function fixFor(code: ErrorCode, field?: string): string | undefined {
  return (field !== undefined ? FIELD_FIXES[code]?.[field] : undefined) ?? FIXES[code];
}
