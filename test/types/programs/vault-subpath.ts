// The Vault store from its own subpath, with the bindings, and the reader from the runtime entry.
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { AscTokenSource, type VaultSourceOptions } from "pulumi-asc-credential/runtime";
import { AppStoreConnectApiKey, type AppStoreConnectApiKeyArgs, type VaultJwtBindingArgs } from "pulumi-asc-credential/vault";

const config = new pulumi.Config();
const github: VaultJwtBindingArgs = { boundAudiences: ["https://github.com/acme"], boundClaims: { repository: "acme/ios-app" } };
const args: AppStoreConnectApiKeyArgs = {
  keyId: config.require("keyId"),
  issuerId: config.require("issuerId"),
  privateKey: config.requireSecret("privateKey"),
  role: ["APP_MANAGER"],
  mount: "secret",
  appRole: { secretIdTtl: 3600 },
  jwtRole: github,
};
const provider = new vault.Provider("vault", { address: "https://vault.example.com:8200" });
const key = new AppStoreConnectApiKey("asc", args, { providers: [provider] });
export const path: pulumi.Output<string> = key.path;
export const policy: pulumi.Output<string> = key.readerPolicyName;
export const secret: vault.kv.SecretV2 = key.secret;

export function reader(roleId: string, secretId: string): AscTokenSource {
  const options: VaultSourceOptions = { path: "app-store-connect/asc", appRole: { roleId, secretId }, version: "previous", refreshSeconds: 60 };
  return AscTokenSource.fromVault(options);
}
