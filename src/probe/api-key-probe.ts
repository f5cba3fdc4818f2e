import * as pulumi from "@pulumi/pulumi";
import type { ResourceProvider } from "@pulumi/pulumi/dynamic";

/**
 * What Pulumi serializes into the state for every probe: a delegate that loads the real provider
 * (./provider.ts) by the package's public subpath when the dynamic-provider process calls it.
 * It captures nothing, so the state holds about a kilobyte per probe instead of a copy of the
 * provider's code (it is written twice, as an input and an output, at every checkpoint), and the
 * module path resolves from the program's own node_modules. Each method names the subpath itself:
 * a shared helper would be serialized as one more function.
 *
 * No `read` or `delete`: the engine's defaults (the state as it is; nothing to remove) are what
 * provider.ts does, and they keep `pulumi refresh` and `pulumi destroy` working after the package
 * was uninstalled.
 */
interface ProbeProviderModule {
  apiKeyProbeProvider: Required<Pick<ResourceProvider, "check" | "diff" | "create" | "update">>;
}
const delegatingProvider: ResourceProvider = {
  check: (olds, news) => (require("pulumi-asc-credential/probe-provider") as ProbeProviderModule).apiKeyProbeProvider.check(olds, news),
  diff: (id, olds, news) => (require("pulumi-asc-credential/probe-provider") as ProbeProviderModule).apiKeyProbeProvider.diff(id, olds, news),
  create: (inputs) => (require("pulumi-asc-credential/probe-provider") as ProbeProviderModule).apiKeyProbeProvider.create(inputs),
  update: (id, olds, news) => (require("pulumi-asc-credential/probe-provider") as ProbeProviderModule).apiKeyProbeProvider.update(id, olds, news),
};

/** Inputs of {@link ApiKeyProbe}. */
export interface ApiKeyProbeArgs {
  /** The 10-character Key ID, e.g. `2X9R4HXF34`. */
  keyId: pulumi.Input<string>;
  /** The team's Issuer ID (UUID). Required for team keys, absent for individual keys. */
  issuerId?: pulumi.Input<string>;
  /** The private key in any form `parsePrivateKey` accepts. Always treated as secret. */
  privateKey: pulumi.Input<string>;
  /** Default `"team"`. */
  keyType?: pulumi.Input<"team" | "individual">;
  /** The `.p8` file's name, to cross-check `AuthKey_<KEYID>.p8` against `keyId`. */
  privateKeyFileName?: pulumi.Input<string>;
  /** `offline` (default): sign and verify locally. `online`: also call `GET /v1/apps?limit=1`. */
  mode?: pulumi.Input<"offline" | "online">;
  /** API base URL for `online` mode; default `https://api.appstoreconnect.apple.com`. */
  baseUrl?: pulumi.Input<string>;
  /** Per-attempt timeout of the online call in milliseconds; default 10 000. */
  timeoutMs?: pulumi.Input<number>;
}

/**
 * Validates an App Store Connect API key at preview (`check`: every problem fails the preview
 * on its property, without any network call) and proves at `up` that it signs a token that its
 * own public key verifies — and, in `online` mode, that Apple accepts it.
 *
 * Changing the key is an update, never a replace, so the outputs record `previousKeyId` and
 * `previousFingerprint` (the key to revoke once consumers moved). No token is ever stored, and the
 * private key is not among the outputs: the state keeps it only as the (secret) input.
 *
 * Its Pulumi type is `pulumi-nodejs:dynamic/asc-credential:ApiKeyProbe`.
 */
export class ApiKeyProbe extends pulumi.dynamic.Resource {
  /** The Key ID that was validated. */
  declare readonly keyId: pulumi.Output<string>;
  /** The Issuer ID (team keys). */
  declare readonly issuerId: pulumi.Output<string | undefined>;
  declare readonly keyType: pulumi.Output<"team" | "individual">;
  /** `sha256:` + hex SHA-256 of the public key's SPKI DER. Identifies the key without revealing it. */
  declare readonly fingerprint: pulumi.Output<string>;
  /** The key's public half (SPKI PEM). */
  declare readonly publicKeyPem: pulumi.Output<string>;
  /** When the last create/update validated the key (ISO 8601). */
  declare readonly validatedAt: pulumi.Output<string>;
  declare readonly mode: pulumi.Output<"offline" | "online">;
  /** The API's HTTP status in `online` mode. */
  declare readonly apiStatus: pulumi.Output<number | undefined>;
  /** Apple's clock minus this machine's, from the response `Date` header (`online` mode). */
  declare readonly clockSkewSeconds: pulumi.Output<number | undefined>;
  /** The Key ID before the last key change: revoke it once every consumer uses the new key. */
  declare readonly previousKeyId: pulumi.Output<string | undefined>;
  /** The fingerprint before the last key change. */
  declare readonly previousFingerprint: pulumi.Output<string | undefined>;

  constructor(name: string, args: ApiKeyProbeArgs, opts?: pulumi.CustomResourceOptions) {
    const props: pulumi.Inputs = {
      keyId: args.keyId,
      issuerId: args.issuerId,
      privateKey: pulumi.secret(args.privateKey),
      keyType: args.keyType,
      privateKeyFileName: args.privateKeyFileName,
      mode: args.mode,
      baseUrl: args.baseUrl,
      timeoutMs: args.timeoutMs,
      // Outputs: declared so they exist on the resource; the provider fills them.
      fingerprint: undefined,
      publicKeyPem: undefined,
      validatedAt: undefined,
      apiStatus: undefined,
      clockSkewSeconds: undefined,
      previousKeyId: undefined,
      previousFingerprint: undefined,
    };
    // Outputs written by 0.1.0 still hold a `privateKey`: keep it secret until the next update drops it.
    super(delegatingProvider, name, props, pulumi.mergeOptions(opts, { additionalSecretOutputs: ["privateKey"] }), "asc-credential", "ApiKeyProbe");
  }
}
