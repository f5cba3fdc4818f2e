/**
 * `pulumi-asc-credential/vault`: the Vault store. `AppStoreConnectApiKey` in a Vault (or OpenBao)
 * KV v2 secret, its reader policy and the optional AppRole and JWT roles bound to it.
 * @packageDocumentation
 */
export {
  AppStoreConnectApiKey,
  DEFAULT_READER_TOKEN_MAX_TTL_SECONDS,
  DEFAULT_READER_TOKEN_TTL_SECONDS,
  VAULT_APP_STORE_CONNECT_API_KEY_TYPE,
  type AppStoreConnectApiKeyArgs,
  type VaultAppRoleBindingArgs,
  type VaultJwtBindingArgs,
} from "./app-store-connect-api-key";
export { defaultReaderName, readerPolicyText } from "./policy";
export type { AscCredentialArgs, AscKeyValidationArgs, AscOnRotateArgs } from "../credential";
export type { AscCredentialComponent } from "../credential-component";
export { checkRoles, KEY_ROLES, type AscRole } from "../roles";
export { AscCredentialError, isAscCredentialError, type ErrorCode } from "../../core";
