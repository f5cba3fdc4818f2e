import * as pulumi from "@pulumi/pulumi";
import type { KeyType } from "../core";
import type { ApiKeyProbe } from "../probe/api-key-probe";
import type { ValidatedCredential } from "./credential";
import type { AscRole } from "./roles";

/**
 * What every store's `AppStoreConnectApiKey` has in common: the probe and the credential outputs,
 * declared once. A store's component registers the probe (`createValidatedCredential`) and its own
 * children, then calls {@link publishCredential} with its own outputs.
 */
export abstract class AscCredentialComponent extends pulumi.ComponentResource {
  /** The validation resource. Depend on it to run after the key was validated. */
  declare readonly probe: ApiKeyProbe;
  /** Key ID of the stored key. */
  declare readonly keyId: pulumi.Output<string>;
  /** Issuer ID (undefined for individual keys). */
  declare readonly issuerId: pulumi.Output<string | undefined>;
  /** `team` or `individual`. */
  declare readonly keyType: pulumi.Output<KeyType>;
  /** `sha256:` fingerprint of the key's public key. */
  declare readonly fingerprint: pulumi.Output<string>;
  /** SPKI PEM of the public key. */
  declare readonly publicKeyPem: pulumi.Output<string>;
  /** Key ID stored before the last rotation: revoke it once every consumer uses the new key. */
  declare readonly previousKeyId: pulumi.Output<string | undefined>;
  /** When the key was last validated (ISO 8601). */
  declare readonly validatedAt: pulumi.Output<string>;
  /** Roles declared for the key. */
  declare readonly roles: pulumi.Output<AscRole[]>;

  /** Sets the credential outputs from the probe and registers them after the store's own. */
  protected publishCredential(credential: ValidatedCredential, storeOutputs: pulumi.Inputs): void {
    const probe = credential.probe;
    const outputs = {
      keyId: probe.keyId,
      issuerId: probe.issuerId,
      keyType: probe.keyType,
      fingerprint: probe.fingerprint,
      publicKeyPem: probe.publicKeyPem,
      previousKeyId: probe.previousKeyId,
      validatedAt: probe.validatedAt,
      roles: credential.roles,
    };
    Object.assign(this, { probe, ...outputs });
    this.registerOutputs({ ...storeOutputs, ...outputs });
  }
}
