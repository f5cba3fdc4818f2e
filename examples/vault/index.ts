import * as pulumi from "@pulumi/pulumi";
import { AppStoreConnectApiKey } from "pulumi-asc-credential/vault";

const config = new pulumi.Config();
const repository = config.require("githubRepository");

const ascKey = new AppStoreConnectApiKey("app-store-connect", {
  keyId: config.require("keyId"),
  issuerId: config.require("issuerId"),
  // Encrypted in the stack config (`pulumi config set --secret privateKey < AuthKey_<ID>.p8`).
  privateKey: config.requireSecret("privateKey"),
  role: "APP_MANAGER",
  // KV v2 mount `secret`, path `app-store-connect/app-store-connect` (the defaults).
  // A build machine logs in with the role ID and a secret ID of this role.
  appRole: { secretIdTtl: 30 * 24 * 3600 },
  // GitHub Actions jobs of this repository's main branch log in with their OIDC token.
  jwtRole: {
    boundAudiences: [`https://github.com/${repository.split("/")[0]}`],
    boundClaims: { repository, ref: "refs/heads/main" },
    userClaim: "repository",
  },
  onRotate: { command: 'echo "revoke $ASC_PREVIOUS_KEY_ID once readers of $ASC_VAULT_MOUNT/$ASC_VAULT_PATH use $ASC_KEY_ID"' },
});

// Consumers read with `AscTokenSource.fromVault({ mount, path, appRole | jwt })` from
// `pulumi-asc-credential/runtime`; every token they get carries only the reader policy.
export const mount = ascKey.mount;
export const path = ascKey.path;
export const readerPolicyName = ascKey.readerPolicyName;
export const appRoleName = ascKey.appRoleName;
export const jwtRoleName = ascKey.jwtRoleName;
export const keyId = ascKey.keyId;
export const fingerprint = ascKey.fingerprint;
export const previousKeyId = ascKey.previousKeyId;
