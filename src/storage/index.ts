/**
 * Storage layer: the `AppStoreConnectApiKey` component and the pure pieces behind it.
 * @packageDocumentation
 */
export {
  APP_STORE_CONNECT_API_KEY_TYPE,
  AppStoreConnectApiKey,
  type AppStoreConnectApiKeyArgs,
  type AscKeyValidationArgs,
  type AscOnRotateArgs,
} from "./app-store-connect-api-key";
export { checkRoles, KEY_ROLES, type AscRole } from "./roles";
export {
  kmsKeyPolicy,
  readerPolicy,
  secretResourcePolicy,
  type KmsKeyPolicyInput,
  type PolicyDocument,
  type PolicyStatement,
  type PolicyStatementBase,
  type ReaderPolicyInput,
  type SecretResourcePolicyInput,
} from "./policies";
