/**
 * The Vault component run under the component tier's mocks, and what it declared: the exact
 * policy text, KV data and auth-role settings its children received. The runtime tier writes
 * exactly these to a real OpenBao server, so the server's ACL engine judges what the component
 * declares, not a hand-written copy.
 */
import * as pulumi from "@pulumi/pulumi";
import { AppStoreConnectApiKey, type AppStoreConnectApiKeyArgs } from "../../../src/storage/vault";
import { TEAM } from "../../support/keys";
import { isSecretValue, reveal, settle, startRun, type Run, type RunOptions } from "../harness";

export const VT = {
  component: "asc-credential:vault:AppStoreConnectApiKey",
  probe: "pulumi-nodejs:dynamic/asc-credential:ApiKeyProbe",
  secret: "vault:kv/secretV2:SecretV2",
  policy: "vault:index/policy:Policy",
  appRole: "vault:appRole/authBackendRole:AuthBackendRole",
  jwtRole: "vault:jwt/authBackendRole:AuthBackendRole",
  command: "command:local:Command",
} as const;

export const OUTPUT_NAMES = [
  "mount", "path", "readerPolicyName", "appRoleName", "jwtRoleName", "keyId", "issuerId", "keyType",
  "fingerprint", "publicKeyPem", "previousKeyId", "validatedAt", "roles",
] as const;

export interface BuiltVault {
  run: Run;
  component: AppStoreConnectApiKey;
  /** Every child registered, with the options it was given. */
  children: { type: string; name: string; opts: pulumi.ResourceOptions; resource: pulumi.Resource }[];
}

/** One mocked program run of the component (team key, TEAM identifiers unless overridden). */
export async function buildVault(
  args: Partial<AppStoreConnectApiKeyArgs> & { privateKey: string },
  opts: pulumi.ComponentResourceOptions = {},
  name = "ci",
  runOptions: RunOptions = {},
): Promise<BuiltVault> {
  const run = await startRun(runOptions);
  const children: BuiltVault["children"] = [];
  const component = new AppStoreConnectApiKey(
    name,
    { keyId: TEAM.keyId, issuerId: TEAM.issuerId, ...args },
    {
      ...opts,
      // Transformations are inherited by children, so this sees each child's options as given.
      transformations: [(a) => { children.push({ type: a.type, name: a.name, opts: a.opts, resource: a.resource }); return undefined; }],
    },
  );
  await settle(OUTPUT_NAMES.map((n) => component[n] as pulumi.Output<unknown>));
  return { run, component, children };
}

/** An auth role as declared: its mount, name, and every other input (camelCase, as Pulumi has them). */
export interface DeclaredRole {
  backend: string;
  roleName: string;
  settings: Record<string, unknown>;
}

/** What one run declared for the server. */
export interface Declared {
  policy: { name: string; text: string };
  secret: { mount: string; path: string; data: Record<string, unknown>; customMetadata: Record<string, unknown> | undefined; dataWasSecret: boolean };
  appRole?: DeclaredRole;
  jwtRole?: DeclaredRole;
}

function role(run: Run, type: string): DeclaredRole | undefined {
  const found = run.all(type);
  if (found.length === 0) return undefined;
  const { backend, roleName, ...settings } = found[0]!.inputs as Record<string, unknown>;
  return { backend: String(backend), roleName: String(roleName), settings };
}

/** The recorded inputs of the run's Vault children. */
export function declaredOf(run: Run): Declared {
  const secret = run.one(VT.secret).inputs;
  const policy = run.one(VT.policy).inputs;
  const appRole = role(run, VT.appRole);
  const jwtRole = role(run, VT.jwtRole);
  return {
    policy: { name: String(policy.name), text: String(policy.policy) },
    secret: {
      mount: String(secret.mount),
      path: String(secret.name),
      data: JSON.parse(reveal<string>(secret.dataJson)) as Record<string, unknown>,
      customMetadata: secret.customMetadata as Record<string, unknown> | undefined,
      dataWasSecret: isSecretValue(secret.dataJson),
    },
    ...(appRole ? { appRole } : {}),
    ...(jwtRole ? { jwtRole } : {}),
  };
}
