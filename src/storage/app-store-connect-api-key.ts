import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { KeyType } from "../core";
import { ApiKeyProbe } from "../probe/api-key-probe";
import { checkKmsKeyArn, kmsKeyPolicy, localReaderRoleName, readerPolicy, roleNameFromArn, secretResourcePolicy } from "./policies";
import { checkRoles, type AscRole } from "./roles";
import { formatStoredCredential } from "../core/stored-credential";

export type { AscRole } from "./roles";

/** The Pulumi type token of {@link AppStoreConnectApiKey}. */
export const APP_STORE_CONNECT_API_KEY_TYPE = "asc-credential:index:AppStoreConnectApiKey";

/** How the key is checked before anything is stored. */
export interface AscKeyValidationArgs {
  /**
   * `offline` (default): parse the key and sign and verify a probe token locally, no network.
   * `online`: also call `GET /v1/apps?limit=1` on the App Store Connect API with it.
   */
  mode?: pulumi.Input<"offline" | "online">;
  /** Base URL of the App Store Connect API (online mode). Default `https://api.appstoreconnect.apple.com`. */
  baseUrl?: pulumi.Input<string>;
  /** Timeout of one online request, in milliseconds. */
  timeoutMs?: pulumi.Input<number>;
}

/** A local command run after every key change (create and each rotation). */
export interface AscOnRotateArgs {
  /**
   * Shell command, run on the machine running `pulumi up` once the new secret version is written.
   * It gets `ASC_SECRET_ARN`, `ASC_KEY_ID`, `ASC_PREVIOUS_KEY_ID` (empty on the first run) and
   * `ASC_FINGERPRINT`; read the key itself from the secret if needed.
   */
  command: pulumi.Input<string>;
  /**
   * Extra environment variables. Must not hold secrets: the command's inputs are shown in
   * previews. The four `ASC_*` variables above win over entries of the same name.
   */
  environment?: Record<string, pulumi.Input<string>>;
  /** Working directory of the command. Default: the Pulumi program's directory. */
  dir?: pulumi.Input<string>;
}

/** Arguments of {@link AppStoreConnectApiKey}. */
export interface AppStoreConnectApiKeyArgs {
  /** Key ID: the 10 upper-case letters/digits shown in the key's row (e.g. `2X9R4HXF34`). Not the key's name. */
  keyId: pulumi.Input<string>;
  /** Issuer ID of the team (UUID at the top of the keys page). Required for team keys, absent for individual keys. */
  issuerId?: pulumi.Input<string>;
  /**
   * The private key, in any accepted form (the `.p8` PEM, with mangled line ends or `\n` escapes,
   * base64 of the file, ...). Wrapped in `pulumi.secret` on entry; take it from
   * `config.requireSecret`, never from a file in the repository.
   */
  privateKey: pulumi.Input<string>;
  /** `team` (default) or `individual`. */
  keyType?: pulumi.Input<KeyType>;
  /**
   * Role(s) the key was created with, recorded as a tag and an output. `ADMIN` requires
   * {@link allowAdminRole}; `MARKETING` and `CUSTOMER_SUPPORT` are refused (Apple cannot create
   * keys with them). Checked when the component is constructed.
   */
  role?: AscRole | AscRole[];
  /** Set to `true` to accept an `ADMIN` key. Default `false`. */
  allowAdminRole?: boolean;
  /**
   * Exact name of the secret. Default: a unique name starting `app-store-connect/<component name>-`
   * (a fixed name would block re-creation while a deleted secret sits in its recovery window).
   */
  secretName?: pulumi.Input<string>;
  /** Description of the secret and the KMS key. */
  description?: pulumi.Input<string>;
  /**
   * ARN of an existing KMS key to encrypt the secret with. When given, no key or alias is created,
   * and that key's policy must let Secrets Manager use it for the readers and administrators.
   * Must be the key ARN (`arn:aws:kms:<region>:<account>:key/<key-id>`), not an alias: IAM matches
   * keys by key ARN only. Resolve an alias with `aws.kms.getKeyOutput({ keyId: "alias/…" }).arn`.
   */
  kmsKeyArn?: pulumi.Input<string>;
  /**
   * IAM role ARNs of the deploying account that may read the secret. Each role gets the reader
   * policy attached, and (with {@link denyOtherPrincipals}) the resource policy keeps it to reading. Role paths are
   * fine (`arn:aws:iam::123456789012:role/ci/reader`); a role of another account is refused (use
   * {@link externalReaders}), and duplicates are attached once.
   *
   * Each attachment is named after its role when the ARN is a plain string, so adding, removing or
   * reordering such readers never touches the others' attachments. An ARN that is an `Output` (for
   * example `role.arn` of a role created in the same program) is unknown when the component is
   * constructed, so its attachment is named by its position among the `Output`-valued readers
   * (`<name>-reader-#0`, `#1`, …). Removing one that is not last, or reordering them, moves roles
   * between those names: the attachments whose role changed are replaced, and deleting an old
   * attachment detaches the policy from the role it named even when another attachment names that
   * role now. For example `[a.arn, b.arn, c.arn]` → `[a.arn, c.arn]` leaves role C without the
   * reader policy (and without read access) while the state still records it as attached, so a
   * plain `pulumi up` does not repair it; `pulumi up --refresh` notices and attaches it again. Two
   * readers resolving to the same role, one of them an `Output`, likewise detach it when either is
   * removed. Prefer plain ARN strings (`pulumi.interpolate` gives an `Output` too), or only append.
   */
  readers?: pulumi.Input<string>[];
  /**
   * Principal ARNs in other accounts that may read the secret. The secret's resource policy and the
   * created KMS key's policy admit them (read only, decrypt only via Secrets Manager); their own
   * account must grant them the same actions on the secret ARN (see `readerPolicyArn`'s document).
   */
  externalReaders?: pulumi.Input<string>[];
  /**
   * Principal ARNs (role or user ARNs, `*` wildcards allowed) that may manage the secret. The
   * principal running `pulumi up` is always added too (an assumed-role session is resolved to its
   * role with `aws.iam.getSessionContext`), so the deployment in progress never locks itself out.
   *
   * Only the current deployer is added, not earlier ones: list here every role that deploys the
   * stack (the CI role and the roles humans deploy with). A deploy by a role that is not listed
   * rewrites the resource policy without the previous deployer, which then loses all access to the
   * secret (and can no longer deploy it) until a listed role or the account root deploys again.
   */
  administrators?: pulumi.Input<string>[];
  /**
   * Deny every `secretsmanager:*` action on the secret (and its replicas) to principals that are
   * not readers, administrators or the account root (the break-glass path), and every action but
   * reading to readers that are not administrators. Default `true`.
   */
  denyOtherPrincipals?: boolean;
  /** Days a deleted secret can be restored (0 deletes at once, else 7–30). Default 30. */
  recoveryWindowInDays?: pulumi.Input<number>;
  /**
   * Regions to replicate the secret to. Replicas are encrypted with the AWS-managed
   * `aws/secretsmanager` key of their region (a KMS key is regional, so the key created here cannot
   * encrypt them); readers are granted read access on the replica ARNs too.
   */
  replicaRegions?: pulumi.Input<string>[];
  /** Extra tags for the secret and the KMS key. */
  tags?: Record<string, pulumi.Input<string>>;
  /** How the key is validated before it is stored. */
  validation?: AscKeyValidationArgs;
  /** Command to run when the key changes (for example to restart consumers). */
  onRotate?: AscOnRotateArgs;
}

/**
 * An App Store Connect API key, validated and stored in AWS Secrets Manager under KMS, readable
 * only by the listed roles.
 *
 * Creates, as children: an `ApiKeyProbe` (validation), a KMS key and alias (unless `kmsKeyArn`),
 * the secret, its version (written only from the probe's outputs, so after validation), the
 * secret's resource policy, one reader IAM policy and an attachment per reader role, and
 * optionally an `onRotate` command. Rotate by changing `keyId` and `privateKey`.
 */
export class AppStoreConnectApiKey extends pulumi.ComponentResource {
  /** ARN of the secret. */
  readonly secretArn: pulumi.Output<string>;
  /** Name of the secret. */
  readonly secretName: pulumi.Output<string>;
  /** Version ID of the secret version holding the current key. */
  readonly secretVersionId: pulumi.Output<string>;
  /** ARN of the KMS key encrypting the secret (created, or `kmsKeyArn`). */
  readonly kmsKeyArn: pulumi.Output<string>;
  /** ARN of the reader IAM policy. */
  readonly readerPolicyArn: pulumi.Output<string>;
  /** Key ID of the stored key. */
  readonly keyId: pulumi.Output<string>;
  /** Issuer ID (undefined for individual keys). */
  readonly issuerId: pulumi.Output<string | undefined>;
  /** `team` or `individual`. */
  readonly keyType: pulumi.Output<KeyType>;
  /** `sha256:` fingerprint of the key's public key. */
  readonly fingerprint: pulumi.Output<string>;
  /** SPKI PEM of the public key. */
  readonly publicKeyPem: pulumi.Output<string>;
  /** Key ID stored before the last rotation: revoke it once every consumer uses the new key. */
  readonly previousKeyId: pulumi.Output<string | undefined>;
  /** When the key was last validated (ISO 8601). */
  readonly validatedAt: pulumi.Output<string>;
  /** Roles declared for the key. */
  readonly roles: pulumi.Output<AscRole[]>;

  constructor(name: string, args: AppStoreConnectApiKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validated before super() registers anything, so a refused role creates nothing.
    const roles = checkRoles(args.role, args.allowAdminRole ?? false);
    // Plain strings are checked here for the same reason; Output values once they resolve.
    if (typeof args.kmsKeyArn === "string") checkKmsKeyArn(args.kmsKeyArn);
    const readerArgs = args.readers ?? [];
    for (const r of readerArgs) if (typeof r === "string") roleNameFromArn(r);
    super(APP_STORE_CONNECT_API_KEY_TYPE, name, {}, opts);
    const parent = { parent: this };

    const privateKey = pulumi.secret(args.privateKey);
    const probe = new ApiKeyProbe(
      `${name}-probe`,
      {
        keyId: args.keyId,
        issuerId: args.issuerId,
        privateKey,
        keyType: args.keyType,
        mode: args.validation?.mode,
        baseUrl: args.validation?.baseUrl,
        timeoutMs: args.validation?.timeoutMs,
      },
      parent,
    );

    const identity = aws.getCallerIdentityOutput({}, parent);
    const partition = aws.getPartitionOutput({}, parent);
    const region = aws.getRegionOutput({}, parent).region;
    const deployer = aws.iam.getSessionContextOutput({ arn: identity.arn }, parent).issuerArn;
    const ctx = pulumi.all([identity.accountId, partition.partition, partition.dnsSuffix, region]).apply(
      ([accountId, part, dnsSuffix, reg]) => ({ accountId, partition: part, dnsSuffix, region: reg }),
    );

    // Readers of another account fail here, before any policy naming them is written.
    const readers = pulumi.all([ctx, pulumi.all(readerArgs)]).apply(([c, arns]) => {
      asResourceError(this, () => arns.forEach((arn) => localReaderRoleName(arn, c.accountId)));
      return [...new Set(arns)];
    });
    const externalReaders = args.externalReaders ?? [];
    const replicaRegions = args.replicaRegions ?? [];
    const description = args.description ?? `App Store Connect API key '${name}' (pulumi-asc-credential)`;
    // From the probe, not the inputs: a key pasted into keyId never reaches a plan's tags, and
    // nothing tagged is written before the key passed validation.
    const tags = {
      ...args.tags,
      "asc:key-id": probe.keyId,
      "asc:key-type": probe.keyType,
      "asc:roles": roles.length > 0 ? roles.join(" ") : "unspecified",
      "managed-by": "pulumi-asc-credential",
    };

    let kmsKeyArn: pulumi.Output<string>;
    if (args.kmsKeyArn !== undefined) {
      kmsKeyArn = pulumi.output(args.kmsKeyArn);
    } else {
      const key = new aws.kms.Key(
        `${name}-key`,
        {
          description,
          enableKeyRotation: true,
          deletionWindowInDays: 30,
          policy: pulumi
            .all([ctx, pulumi.all(externalReaders)])
            .apply(([c, ext]) => JSON.stringify(kmsKeyPolicy({ ...c, externalReaders: ext }))),
          tags,
        },
        parent,
      );
      new aws.kms.Alias(
        `${name}-key-alias`,
        { namePrefix: `alias/app-store-connect/${aliasSafe(name)}-`, targetKeyId: key.keyId },
        parent,
      );
      kmsKeyArn = key.arn;
    }

    const secret = new aws.secretsmanager.Secret(
      `${name}-secret`,
      {
        ...(args.secretName !== undefined ? { name: args.secretName } : { namePrefix: `app-store-connect/${name}-` }),
        description,
        kmsKeyId: kmsKeyArn,
        recoveryWindowInDays: args.recoveryWindowInDays ?? 30,
        tags,
        ...(replicaRegions.length > 0 ? { replicas: replicaRegions.map((r) => ({ region: r })) } : {}),
      },
      parent,
    );

    // Built only from the probe's outputs: the version cannot be written before the probe passed.
    const secretString = pulumi.secret(
      pulumi
        .all([probe.keyType, probe.keyId, probe.issuerId, probe.privateKey, probe.fingerprint])
        .apply(([keyType, keyId, issuerId, pem, fingerprint]) =>
          formatStoredCredential({ keyType: keyType as KeyType, keyId, issuerId, privateKey: pem, fingerprint }),
        ),
    );
    const version = new aws.secretsmanager.SecretVersion(`${name}-version`, { secretId: secret.id, secretString }, parent);

    const administrators = pulumi.all([deployer, pulumi.all(args.administrators ?? [])]).apply(([d, a]) => [d, ...a]);
    const denyOtherPrincipals = args.denyOtherPrincipals ?? true;
    if (denyOtherPrincipals || externalReaders.length > 0) {
      new aws.secretsmanager.SecretPolicy(
        `${name}-secret-policy`,
        {
          secretArn: secret.arn,
          blockPublicPolicy: true,
          policy: pulumi
            .all([ctx, secret.arn, pulumi.all(replicaRegions), readers, pulumi.all(externalReaders), administrators])
            .apply(([c, secretArn, regions, r, ext, admins]) =>
              JSON.stringify(
                secretResourcePolicy({
                  accountId: c.accountId,
                  partition: c.partition,
                  secretArn,
                  replicaRegions: regions,
                  readers: r,
                  externalReaders: ext,
                  administrators: admins,
                  denyOtherPrincipals,
                }),
              ),
            ),
        },
        parent,
      );
    }

    const policy = new aws.iam.Policy(
      `${name}-reader`,
      {
        description: pulumi.interpolate`Read the App Store Connect API key in ${secret.name}`,
        policy: pulumi
          .all([ctx, secret.arn, kmsKeyArn, pulumi.all(replicaRegions)])
          .apply(([c, secretArn, keyArn, regions]) => {
            asResourceError(this, () => checkKmsKeyArn(keyArn));
            return JSON.stringify(readerPolicy({ ...c, secretArn, kmsKeyArn: keyArn, replicaRegions: regions }));
          }),
      },
      parent,
    );
    // One attachment per role, named after the role when it is known now (see `readers`). Keyed by
    // role name, not ARN: AWS holds one attachment per (role, policy), so two resources for one
    // role would detach it when either goes. `#` cannot occur in a role name, so the positional
    // names of Output-valued readers never collide with a role's.
    const attachmentRoles = new Map<string, pulumi.Output<string>>();
    let outputIndex = 0;
    for (const arn of readerArgs) {
      if (typeof arn === "string") {
        const roleName = roleNameFromArn(arn);
        // After the `readers` check, so a reader of another account stops every attachment.
        if (!attachmentRoles.has(roleName)) attachmentRoles.set(roleName, readers.apply(() => roleName));
      } else {
        attachmentRoles.set(`#${outputIndex++}`, pulumi.all([readers, arn]).apply(([, a]) => roleNameFromArn(a)));
      }
    }
    for (const [suffix, role] of attachmentRoles) {
      new aws.iam.RolePolicyAttachment(`${name}-reader-${suffix}`, { role, policyArn: policy.arn }, parent);
    }

    if (args.onRotate) {
      const onRotate = args.onRotate;
      new command.local.Command(
        `${name}-on-rotate`,
        {
          create: onRotate.command,
          ...(onRotate.dir !== undefined ? { dir: onRotate.dir } : {}),
          environment: {
            ...onRotate.environment,
            ASC_SECRET_ARN: secret.arn,
            ASC_KEY_ID: probe.keyId,
            ASC_PREVIOUS_KEY_ID: probe.previousKeyId.apply((k) => k ?? ""),
            ASC_FINGERPRINT: probe.fingerprint,
          },
          triggers: [probe.fingerprint],
        },
        { parent: this, dependsOn: [version] },
      );
    }

    this.secretArn = secret.arn;
    this.secretName = secret.name;
    this.secretVersionId = version.versionId;
    this.kmsKeyArn = kmsKeyArn;
    this.readerPolicyArn = policy.arn;
    this.keyId = probe.keyId;
    this.issuerId = probe.issuerId;
    this.keyType = probe.keyType;
    this.fingerprint = probe.fingerprint;
    this.publicKeyPem = probe.publicKeyPem;
    this.previousKeyId = probe.previousKeyId;
    this.validatedAt = probe.validatedAt;
    this.roles = pulumi.output(roles);
    this.registerOutputs({
      secretArn: this.secretArn,
      secretName: this.secretName,
      secretVersionId: this.secretVersionId,
      kmsKeyArn: this.kmsKeyArn,
      readerPolicyArn: this.readerPolicyArn,
      keyId: this.keyId,
      issuerId: this.issuerId,
      keyType: this.keyType,
      fingerprint: this.fingerprint,
      publicKeyPem: this.publicKeyPem,
      previousKeyId: this.previousKeyId,
      validatedAt: this.validatedAt,
      roles: this.roles,
    });
  }
}

/**
 * Runs a check inside an apply and rethrows its error as a `ResourceError` on the component: the
 * engine then prints the message against the component, without a stack trace.
 */
function asResourceError(resource: pulumi.Resource, check: () => void): void {
  try {
    check();
  } catch (e) {
    throw new pulumi.ResourceError(e instanceof Error ? e.message : String(e), resource, true);
  }
}

/** KMS alias names allow only letters, digits, `/`, `_` and `-`. */
function aliasSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9/_-]/g, "-");
}
