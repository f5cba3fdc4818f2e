/**
 * The AWS store: `AppStoreConnectApiKey` in Secrets Manager under KMS, and its pure policy builders.
 * @packageDocumentation
 */
export {
  APP_STORE_CONNECT_API_KEY_TYPE,
  AppStoreConnectApiKey,
  type AppStoreConnectApiKeyArgs,
  type AscReaderRole,
} from "./app-store-connect-api-key";
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
