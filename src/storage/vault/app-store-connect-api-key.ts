import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { AscCredentialError } from "../../core";
import { quote } from "../../core/redact";
import { checkVaultAuthMount, checkVaultMount, checkVaultNamespace, checkVaultPath, DEFAULT_VAULT_APPROLE_MOUNT, DEFAULT_VAULT_JWT_MOUNT, DEFAULT_VAULT_KV_MOUNT } from "../../core/vault-path";
import { AscCredentialComponent } from "../credential-component";
import { asResourceError, checkPlainRoles, createOnRotate, createValidatedCredential, isPlain, type AscCredentialArgs } from "../credential";
import { defaultReaderName, readerPolicyText } from "./policy";

/** The Pulumi type token of the Vault {@link AppStoreConnectApiKey}. */
export const VAULT_APP_STORE_CONNECT_API_KEY_TYPE = "asc-credential:vault:AppStoreConnectApiKey";

/** Default lifetime of a token a reader gets from a bound role, in seconds; it logs in again after. */
export const DEFAULT_READER_TOKEN_TTL_SECONDS = 900;
/** Default longest lifetime of such a token, renewals included, in seconds. */
export const DEFAULT_READER_TOKEN_MAX_TTL_SECONDS = 3600;

/** An AppRole role the component creates, whose tokens carry the reader policy and nothing else. */
export interface VaultAppRoleBindingArgs {
  /** The role's name. Default: the reader policy's default name (`asc-reader-<mount>-<path>-<hash>`). */
  roleName?: pulumi.Input<string>;
  /** The AppRole auth method's mount. Default `approle`. */
  backend?: pulumi.Input<string>;
  /** Token lifetime in seconds. Default 900. */
  tokenTtl?: pulumi.Input<number>;
  /** Longest token lifetime in seconds. Default 3600. */
  tokenMaxTtl?: pulumi.Input<number>;
  /** Seconds after which a secret ID expires. Default: Vault's (never). */
  secretIdTtl?: pulumi.Input<number>;
  /** Logins a secret ID allows. Default: Vault's (unlimited). */
  secretIdNumUses?: pulumi.Input<number>;
  /** CIDR blocks that may log in with a secret ID. */
  secretIdBoundCidrs?: pulumi.Input<pulumi.Input<string>[]>;
  /** CIDR blocks that may use the tokens. */
  tokenBoundCidrs?: pulumi.Input<pulumi.Input<string>[]>;
}

/**
 * A JWT/OIDC role the component creates, whose tokens carry the reader policy and nothing else.
 * For GitHub Actions: the `jwt` auth method configured with
 * `oidc_discovery_url = "https://token.actions.githubusercontent.com"`, `boundClaims:
 * { repository: "org/repo" }` (and `ref`, `environment` as needed).
 */
export interface VaultJwtBindingArgs {
  /** The role's name. Default: the reader policy's default name. */
  roleName?: pulumi.Input<string>;
  /** The JWT auth method's mount. Default `jwt`. */
  backend?: pulumi.Input<string>;
  /** `aud` values a token must carry (at least one). */
  boundAudiences: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Claims a token must carry, e.g. `{ repository: "org/repo" }`. This or {@link boundSubject} is
   * required: an issuer such as GitHub signs tokens for every repository it hosts.
   */
  boundClaims?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** `string` (default: exact values) or `glob`. */
  boundClaimsType?: pulumi.Input<"string" | "glob">;
  /** The `sub` a token must carry. */
  boundSubject?: pulumi.Input<string>;
  /** The claim that names the login's entity alias. Default `sub`. */
  userClaim?: pulumi.Input<string>;
  /** Token lifetime in seconds. Default 900. */
  tokenTtl?: pulumi.Input<number>;
  /** Longest token lifetime in seconds. Default 3600. */
  tokenMaxTtl?: pulumi.Input<number>;
  /** CIDR blocks that may use the tokens. */
  tokenBoundCidrs?: pulumi.Input<pulumi.Input<string>[]>;
}

/** Arguments of the Vault {@link AppStoreConnectApiKey}. */
export interface AppStoreConnectApiKeyArgs extends AscCredentialArgs {
  /** The KV version 2 mount the secret goes in (it must exist). Default `secret`. */
  mount?: pulumi.Input<string>;
  /** The secret's path inside the mount. Default `app-store-connect/<component name>`. */
  path?: pulumi.Input<string>;
  /** The namespace (Vault Enterprise, OpenBao) of every child; default the provider's. */
  namespace?: pulumi.Input<string>;
  /** Name of the reader policy. Default `asc-reader-<mount>-<path>-<hash>`, unique per secret. */
  readerPolicyName?: pulumi.Input<string>;
  /** Create an AppRole role bound to the reader policy. */
  appRole?: VaultAppRoleBindingArgs;
  /** Create a JWT/OIDC role bound to the reader policy (e.g. for GitHub Actions). */
  jwtRole?: VaultJwtBindingArgs;
  /**
   * `true`: deleting the component deletes every version of the secret and its metadata at once.
   * Default `false`: only the current version is soft-deleted (`bao kv undelete` restores it).
   */
  deleteAllVersions?: boolean;
}

const NAME = /^[A-Za-z0-9_.@~-]{1,128}$/;
// Policies Vault itself owns: `default` is attached to nearly every token, so writing the reader
// policy under that name would let every one of them read the key.
const RESERVED_POLICIES = ["default", "root", "response-wrapping", "control-group"];

function checkName(value: unknown, field: string, what: string): string {
  if (typeof value === "string" && field === "readerPolicyName" && RESERVED_POLICIES.includes(value.toLowerCase())) {
    throw new AscCredentialError("VAULT_BINDING_INVALID", `readerPolicyName: '${value.toLowerCase()}' is a policy Vault itself owns (default is attached to nearly every token). Leave readerPolicyName out for a name of its own, or choose another.`, field);
  }
  if (typeof value === "string" && NAME.test(value)) return value;
  const seen = typeof value === "string" ? quote(value) : `a value of type ${typeof value}`;
  throw new AscCredentialError("VAULT_BINDING_INVALID", `${field}: ${seen} is not a ${what}. Use 1 to 128 letters, digits and . _ - @ ~.`, field);
}

/**
 * A JWT role must admit only tokens naming something specific. Values not known yet are skipped
 * here and checked again once they resolve.
 */
function checkJwtBinding(jwt: { boundAudiences?: unknown; boundClaims?: unknown; boundSubject?: unknown; boundClaimsType?: unknown }): void {
  const audiences = jwt.boundAudiences;
  if (isPlain(audiences) && (!Array.isArray(audiences) || audiences.length === 0 || audiences.some((a) => isPlain(a) && (typeof a !== "string" || a.trim() === "")))) {
    throw new AscCredentialError("VAULT_BINDING_INVALID", "jwtRole.boundAudiences: give at least one non-empty audience (the `aud` your CI requests for its OIDC token); Vault requires one for jwt roles.", "jwtRole.boundAudiences");
  }
  const { boundClaims, boundSubject, boundClaimsType } = jwt;
  if (!isPlain(boundClaims) || !isPlain(boundSubject) || !isPlain(boundClaimsType)) return;
  const claims = boundClaims === undefined || boundClaims === null ? {} : (boundClaims as Record<string, unknown>);
  const glob = boundClaimsType === "glob";
  // The Vault provider splits a value at commas into values any of which may match: each is judged.
  const matchesAnything = (value: string): boolean => value === "" || (glob && !/[A-Za-z0-9]/.test(value.replace(/[*?]/g, "")));
  const emptyValue = Object.values(claims).some((v) => isPlain(v) && (typeof v !== "string" || v.split(",").some((one) => matchesAnything(one.trim()))));
  const hasSubject = boundSubject !== undefined && (!isPlain(boundSubject) || (typeof boundSubject === "string" && boundSubject.trim() !== ""));
  if (emptyValue || (Object.keys(claims).length === 0 && !hasSubject)) {
    throw new AscCredentialError(
      "VAULT_BINDING_INVALID",
      `jwtRole: ${emptyValue ? "a bound claim is empty or matches anything" : "neither boundClaims nor boundSubject is given"}, so any token of the issuer with that audience could read the key (GitHub signs tokens for every repository it hosts). Bind the role to what identifies your workload, e.g. boundClaims: { repository: "org/repo" }.`,
      "jwtRole.boundClaims",
    );
  }
}

/**
 * An App Store Connect API key, validated and stored in a Vault (or OpenBao) KV v2 secret,
 * readable only through a policy that grants `read` on that secret. Children (README "Vault
 * store"): the probe, the secret (`vault.kv.SecretV2`, written only after validation), the reader
 * policy, optionally an AppRole role and a JWT role bound to that policy alone, and optionally an
 * `onRotate` command. Rotate by changing `keyId` and `privateKey`: KV v2 keeps the previous
 * version.
 */
export class AppStoreConnectApiKey extends AscCredentialComponent {
  /** The KV v2 secret holding the stored JSON. Depend on it to run after the key was stored. */
  readonly secret: vault.kv.SecretV2;
  /** The reader policy. */
  readonly readerPolicy: vault.Policy;
  /** The AppRole role bound to the reader policy, when `appRole` was given. */
  readonly appRole?: vault.approle.AuthBackendRole;
  /** The JWT role bound to the reader policy, when `jwtRole` was given. */
  readonly jwtRole?: vault.jwt.AuthBackendRole;
  /** The KV v2 mount. */
  readonly mount: pulumi.Output<string>;
  /** The secret's path inside the mount. */
  readonly path: pulumi.Output<string>;
  /** Name of the reader policy. */
  readonly readerPolicyName: pulumi.Output<string>;
  /** Name of the AppRole role (undefined without `appRole`). */
  readonly appRoleName: pulumi.Output<string | undefined>;
  /** Name of the JWT role (undefined without `jwtRole`). */
  readonly jwtRoleName: pulumi.Output<string | undefined>;

  constructor(name: string, args: AppStoreConnectApiKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    // Plain inputs are checked before super() registers anything, so a refusal creates nothing;
    // Output values once they resolve, before the child that uses them is registered.
    const plainRoles = checkPlainRoles(args);
    const mountInput = args.mount ?? DEFAULT_VAULT_KV_MOUNT;
    const pathInput = args.path ?? `app-store-connect/${name}`;
    if (isPlain(mountInput)) checkVaultMount(mountInput, "mount");
    if (isPlain(pathInput)) checkVaultPath(pathInput, "path");
    if (args.namespace !== undefined && isPlain(args.namespace)) checkVaultNamespace(args.namespace, "namespace");
    if (args.readerPolicyName !== undefined && isPlain(args.readerPolicyName)) checkName(args.readerPolicyName, "readerPolicyName", "Vault policy name");
    for (const [field, binding] of [["appRole", args.appRole], ["jwtRole", args.jwtRole]] as const) {
      if (binding?.roleName !== undefined && isPlain(binding.roleName)) checkName(binding.roleName, `${field}.roleName`, "Vault role name");
      if (binding?.backend !== undefined && isPlain(binding.backend)) checkVaultAuthMount(binding.backend, `${field}.backend`);
    }
    if (args.jwtRole) checkJwtBinding(args.jwtRole);
    super(VAULT_APP_STORE_CONNECT_API_KEY_TYPE, name, {}, opts);

    const credential = createValidatedCredential(this, name, args, plainRoles, {
      mount: args.mount,
      path: args.path,
      namespace: args.namespace,
      readerPolicyName: args.readerPolicyName,
      appRole: args.appRole,
      jwtRole: args.jwtRole,
    });
    const mount = pulumi.output(mountInput).apply((m) => asResourceError(this, () => checkVaultMount(m, "mount")));
    const path = pulumi.output(pathInput).apply((p) => asResourceError(this, () => checkVaultPath(p, "path")));
    const namespace = args.namespace !== undefined ? { namespace: pulumi.output(args.namespace).apply((n) => asResourceError(this, () => checkVaultNamespace(n, "namespace"))) } : {};
    const defaultName = pulumi.all([mount, path]).apply(([m, p]) => defaultReaderName(m, p));

    // After the probe (storeOptions), and the stored JSON needs its outputs: never before validation.
    this.secret = new vault.kv.SecretV2(
      `${name}-secret`,
      {
        mount,
        name: path,
        ...namespace,
        dataJson: credential.storedJson,
        customMetadata: { data: credential.tags },
        deleteAllVersions: args.deleteAllVersions ?? false,
      },
      credential.storeOptions,
    );
    this.readerPolicy = new vault.Policy(
      `${name}-reader`,
      {
        name: args.readerPolicyName !== undefined ? pulumi.output(args.readerPolicyName).apply((n) => asResourceError(this, () => checkName(n, "readerPolicyName", "Vault policy name"))) : defaultName,
        ...namespace,
        policy: pulumi.all([mount, path]).apply(([m, p]) => readerPolicyText(m, p)),
      },
      // After the probe too, and the auth roles after the policy: a refused key creates nothing.
      credential.storeOptions,
    );
    const bound = {
      tokenPolicies: [this.readerPolicy.name],
      // The `default` policy (token self-lookup, cubbyhole, ...) is not needed to read the key.
      tokenNoDefaultPolicy: true,
    };
    const roleName = (field: string, given: pulumi.Input<string> | undefined): pulumi.Input<string> =>
      given !== undefined ? pulumi.output(given).apply((n) => asResourceError(this, () => checkName(n, `${field}.roleName`, "Vault role name"))) : defaultName;
    const backend = (field: string, given: pulumi.Input<string> | undefined, fallback: string): pulumi.Input<string> =>
      pulumi.output(given ?? fallback).apply((b) => asResourceError(this, () => checkVaultAuthMount(b, `${field}.backend`)));

    if (args.appRole) {
      const a = args.appRole;
      this.appRole = new vault.approle.AuthBackendRole(
        `${name}-approle`,
        {
          backend: backend("appRole", a.backend, DEFAULT_VAULT_APPROLE_MOUNT),
          roleName: roleName("appRole", a.roleName),
          ...namespace,
          bindSecretId: true,
          ...bound,
          tokenTtl: a.tokenTtl ?? DEFAULT_READER_TOKEN_TTL_SECONDS,
          tokenMaxTtl: a.tokenMaxTtl ?? DEFAULT_READER_TOKEN_MAX_TTL_SECONDS,
          ...(a.secretIdTtl !== undefined ? { secretIdTtl: a.secretIdTtl } : {}),
          ...(a.secretIdNumUses !== undefined ? { secretIdNumUses: a.secretIdNumUses } : {}),
          ...(a.secretIdBoundCidrs !== undefined ? { secretIdBoundCidrs: a.secretIdBoundCidrs } : {}),
          ...(a.tokenBoundCidrs !== undefined ? { tokenBoundCidrs: a.tokenBoundCidrs } : {}),
        },
        { parent: this },
      );
    }
    if (args.jwtRole) {
      const j = args.jwtRole;
      // Values known only at deploy time are checked before the role is registered.
      const checked = pulumi
        .all([pulumi.output(j.boundAudiences), pulumi.output(j.boundClaims), pulumi.output(j.boundSubject), pulumi.output(j.boundClaimsType)])
        .apply(([boundAudiences, boundClaims, boundSubject, boundClaimsType]) => {
          asResourceError(this, () => checkJwtBinding({ boundAudiences, boundClaims, boundSubject, boundClaimsType }));
          return { boundAudiences, boundClaims, boundSubject };
        });
      this.jwtRole = new vault.jwt.AuthBackendRole(
        `${name}-jwt`,
        {
          backend: backend("jwtRole", j.backend, DEFAULT_VAULT_JWT_MOUNT),
          roleName: roleName("jwtRole", j.roleName),
          ...namespace,
          roleType: "jwt",
          boundAudiences: checked.boundAudiences,
          ...(j.boundClaims !== undefined ? { boundClaims: checked.apply((c) => c.boundClaims ?? {}) } : {}),
          ...(j.boundClaimsType !== undefined ? { boundClaimsType: j.boundClaimsType } : {}),
          ...(j.boundSubject !== undefined ? { boundSubject: checked.apply((c) => c.boundSubject ?? "") } : {}),
          userClaim: j.userClaim ?? "sub",
          ...bound,
          tokenTtl: j.tokenTtl ?? DEFAULT_READER_TOKEN_TTL_SECONDS,
          tokenMaxTtl: j.tokenMaxTtl ?? DEFAULT_READER_TOKEN_MAX_TTL_SECONDS,
          ...(j.tokenBoundCidrs !== undefined ? { tokenBoundCidrs: j.tokenBoundCidrs } : {}),
        },
        { parent: this },
      );
    }
    if (args.onRotate) createOnRotate(this, name, args.onRotate, credential.probe, { ASC_VAULT_MOUNT: this.secret.mount, ASC_VAULT_PATH: this.secret.name }, this.secret);

    this.mount = this.secret.mount;
    this.path = this.secret.name;
    this.readerPolicyName = this.readerPolicy.name;
    this.appRoleName = this.appRole ? this.appRole.roleName : pulumi.output(undefined);
    this.jwtRoleName = this.jwtRole ? this.jwtRole.roleName : pulumi.output(undefined);
    this.publishCredential(credential, {
      mount: this.mount,
      path: this.path,
      readerPolicyName: this.readerPolicyName,
      appRoleName: this.appRoleName,
      jwtRoleName: this.jwtRoleName,
    });
  }
}
