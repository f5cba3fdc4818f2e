import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AscCredentialComponent } from "../credential-component";
import { asResourceError, checkPlainRoles, createOnRotate, createValidatedCredential, type AscCredentialArgs, type ValidatedCredential } from "../credential";
import { checkKmsKeyArn, kmsKeyPolicy, readerPolicy, secretResourcePolicy } from "./policies";
import { checkExclusiveReaders, localReaderRoleName, planAttachments, roleNameFromArn, type ReaderRef } from "./readers";

/** The Pulumi type token of {@link AppStoreConnectApiKey}. */
export const APP_STORE_CONNECT_API_KEY_TYPE = "asc-credential:index:AppStoreConnectApiKey";

/** A reader role: its ARN (a string or an Output), or the `aws.iam.Role` itself. */
export type AscReaderRole = pulumi.Input<string> | aws.iam.Role;

/** Arguments of {@link AppStoreConnectApiKey}. */
export interface AppStoreConnectApiKeyArgs extends AscCredentialArgs {
  /**
   * Exact name of the secret. Default: a unique name starting `app-store-connect/<component name>-`
   * (a fixed name would block re-creation while a deleted secret sits in its recovery window).
   */
  secretName?: pulumi.Input<string>;
  /** Description of the secret and the KMS key. */
  description?: pulumi.Input<string>;
  /**
   * ARN of an existing KMS key to encrypt the secret with, instead of creating one. Must be the key
   * ARN, not an alias (README "Operational notes").
   */
  kmsKeyArn?: pulumi.Input<string>;
  /**
   * IAM roles of the deploying account that may read the secret: role ARNs, `aws.iam.Role`
   * objects, or one `Output` of an ARN list (a `StackReference` output). Each gets the reader
   * policy attached; how attachments are named and what that means when the list changes:
   * README "Readers".
   */
  readers?: pulumi.Input<pulumi.Input<string>[]> | AscReaderRole[];
  /**
   * Principal ARNs in other accounts that may read the secret (read only, decrypt only via Secrets
   * Manager); their own account must grant them the same actions on the secret ARN.
   */
  externalReaders?: pulumi.Input<string>[];
  /**
   * Principal ARNs (`*` wildcards allowed) that may manage the secret. The principal running
   * `pulumi up` is always added; list every role that deploys the stack (README "Operational notes").
   */
  administrators?: pulumi.Input<string>[];
  /**
   * Deny every `secretsmanager:*` action on the secret (and its replicas) to principals that are
   * not readers, administrators or the account root, and every action but reading to readers.
   * Default `true`.
   */
  denyOtherPrincipals?: boolean;
  /** Days a deleted secret can be restored (0 deletes at once, else 7–30). Default 30. */
  recoveryWindowInDays?: pulumi.Input<number>;
  /** Regions to replicate the secret to, each under its AWS-managed `aws/secretsmanager` key. */
  replicaRegions?: pulumi.Input<string>[];
  /** Extra tags for the secret and the KMS key. */
  tags?: Record<string, pulumi.Input<string>>;
}

/** The account, partition and region the component deploys into. */
interface Deployment {
  ctx: pulumi.Output<{ accountId: string; partition: string; dnsSuffix: string; region: string }>;
  /** The role running `pulumi up` (an assumed-role session resolved to its role). */
  deployer: pulumi.Output<string>;
}

/**
 * An App Store Connect API key, validated and stored in AWS Secrets Manager under KMS, readable
 * only by the listed roles. Children (README "What gets created"): the probe, a KMS key and alias
 * (unless `kmsKeyArn`), the secret, its version (written only after validation), the secret's
 * resource policy, the reader policy and its attachments, and optionally an `onRotate` command.
 * Rotate by changing `keyId` and `privateKey`.
 */
export class AppStoreConnectApiKey extends AscCredentialComponent {
  /** The Secrets Manager secret. */
  readonly secret: aws.secretsmanager.Secret;
  /** The secret version holding the current key. Depend on it to run after the key was stored. */
  readonly secretVersion: aws.secretsmanager.SecretVersion;
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

  constructor(name: string, args: AppStoreConnectApiKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    // Plain inputs are checked before super() registers anything, so a refusal creates nothing;
    // Output values once they resolve.
    const plainRoles = checkPlainRoles(args);
    if (typeof args.kmsKeyArn === "string") checkKmsKeyArn(args.kmsKeyArn);
    const readerRefs = readerRefsOf(args.readers);
    if (readerRefs) planAttachments(readerRefs);
    super(APP_STORE_CONNECT_API_KEY_TYPE, name, {}, opts);

    const credential = createValidatedCredential(this, name, args, plainRoles, {
      description: args.description,
      secretName: args.secretName,
      kmsKeyArn: args.kmsKeyArn,
      readers: Array.isArray(args.readers) ? args.readers.map((r) => (r instanceof aws.iam.Role ? r.arn : r)) : args.readers,
      externalReaders: args.externalReaders,
      administrators: args.administrators,
      replicaRegions: args.replicaRegions,
      tags: args.tags,
    });
    const deployment = this.deployment();
    const tags = { ...args.tags, ...credential.tags };
    const description = args.description ?? `App Store Connect API key '${name}' (pulumi-asc-credential)`;
    const readerArns = this.checkedReaderArns(args.readers, deployment);
    const givenKmsKeyArn = args.kmsKeyArn !== undefined ? pulumi.output(args.kmsKeyArn).apply((arn) => asResourceError(this, () => (checkKmsKeyArn(arn), arn))) : undefined;
    // Values known only at deploy time (the readers' accounts, an Output kmsKeyArn) are checked
    // before the KMS key and the secret, and so before anything that follows them: a refused one
    // creates nothing and writes no key.
    const checked = pulumi.all([readerArns, givenKmsKeyArn]).apply((): pulumi.Resource[] => []);

    const kmsKeyArn = givenKmsKeyArn ?? this.createKmsKey(name, args, deployment, description, tags, checked);
    this.secret = this.createSecret(name, args, kmsKeyArn, description, tags, checked);
    this.secretVersion = this.createSecretVersion(name, credential);
    const administrators = pulumi.all([deployment.deployer, pulumi.all(args.administrators ?? [])]).apply(([d, a]) => [d, ...a]);
    if ((args.denyOtherPrincipals ?? true) || (args.externalReaders ?? []).length > 0) {
      this.createSecretPolicy(name, args, deployment, readerArns, administrators);
    }
    const policy = this.createReaderPolicy(name, args, deployment, kmsKeyArn);
    this.attachReaders(name, args.readers, readerRefs, readerArns, policy);
    if (args.onRotate) createOnRotate(this, name, args.onRotate, credential.probe, { ASC_SECRET_ARN: this.secret.arn }, this.secretVersion);

    this.secretArn = this.secret.arn;
    this.secretName = this.secret.name;
    this.secretVersionId = this.secretVersion.versionId;
    this.kmsKeyArn = kmsKeyArn;
    this.readerPolicyArn = policy.arn;
    this.publishCredential(credential, {
      secretArn: this.secretArn,
      secretName: this.secretName,
      secretVersionId: this.secretVersionId,
      kmsKeyArn: this.kmsKeyArn,
      readerPolicyArn: this.readerPolicyArn,
    });
  }

  private deployment(): Deployment {
    const parent = { parent: this };
    const identity = aws.getCallerIdentityOutput({}, parent);
    const partition = aws.getPartitionOutput({}, parent);
    const region = aws.getRegionOutput({}, parent).region;
    return {
      ctx: pulumi.all([identity.accountId, partition.partition, partition.dnsSuffix, region]).apply(([accountId, part, dnsSuffix, reg]) => ({ accountId, partition: part, dnsSuffix, region: reg })),
      deployer: aws.iam.getSessionContextOutput({ arn: identity.arn }, parent).issuerArn,
    };
  }

  /** Every reader's ARN, each checked to be a role of the deploying account, de-duplicated. */
  private checkedReaderArns(readers: AppStoreConnectApiKeyArgs["readers"], deployment: Deployment): pulumi.Output<string[]> {
    const arns = Array.isArray(readers) ? pulumi.all(readers.map((r) => (r instanceof aws.iam.Role ? r.arn : r))) : pulumi.output(readers ?? []);
    // Readers of another account fail here, before any policy naming them is written.
    return pulumi.all([deployment.ctx, arns]).apply(([c, list]) => {
      asResourceError(this, () => {
        list.forEach((arn) => localReaderRoleName(arn, c.accountId, c.partition));
        if (readers !== undefined && !Array.isArray(readers)) checkExclusiveReaders(list);
      });
      return [...new Set(list)];
    });
  }

  private createKmsKey(name: string, args: AppStoreConnectApiKeyArgs, deployment: Deployment, description: pulumi.Input<string>, tags: Record<string, pulumi.Input<string>>, checked: pulumi.Output<pulumi.Resource[]>): pulumi.Output<string> {
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi.all([deployment.ctx, pulumi.all(args.externalReaders ?? [])]).apply(([c, ext]) => JSON.stringify(kmsKeyPolicy({ ...c, externalReaders: ext }))),
        tags,
      },
      { parent: this, dependsOn: checked },
    );
    new aws.kms.Alias(`${name}-key-alias`, { namePrefix: `alias/app-store-connect/${aliasSafe(name)}-`, targetKeyId: key.keyId }, { parent: this });
    return key.arn;
  }

  private createSecret(name: string, args: AppStoreConnectApiKeyArgs, kmsKeyArn: pulumi.Output<string>, description: pulumi.Input<string>, tags: Record<string, pulumi.Input<string>>, checked: pulumi.Output<pulumi.Resource[]>): aws.secretsmanager.Secret {
    const replicaRegions = args.replicaRegions ?? [];
    return new aws.secretsmanager.Secret(
      `${name}-secret`,
      {
        ...(args.secretName !== undefined ? { name: args.secretName } : { namePrefix: `app-store-connect/${name}-` }),
        description,
        kmsKeyId: kmsKeyArn,
        recoveryWindowInDays: args.recoveryWindowInDays ?? 30,
        tags,
        ...(replicaRegions.length > 0 ? { replicas: replicaRegions.map((r) => ({ region: r })) } : {}),
      },
      { parent: this, dependsOn: checked },
    );
  }

  /** After the probe (dependsOn, and the stored JSON needs its outputs): never before validation. */
  private createSecretVersion(name: string, credential: ValidatedCredential): aws.secretsmanager.SecretVersion {
    return new aws.secretsmanager.SecretVersion(`${name}-version`, { secretId: this.secret.id, secretString: credential.storedJson }, credential.storeOptions);
  }

  private createSecretPolicy(name: string, args: AppStoreConnectApiKeyArgs, deployment: Deployment, readers: pulumi.Output<string[]>, administrators: pulumi.Output<string[]>): void {
    const denyOtherPrincipals = args.denyOtherPrincipals ?? true;
    new aws.secretsmanager.SecretPolicy(
      `${name}-secret-policy`,
      {
        secretArn: this.secret.arn,
        blockPublicPolicy: true,
        policy: pulumi
          .all([deployment.ctx, this.secret.arn, pulumi.all(args.replicaRegions ?? []), readers, pulumi.all(args.externalReaders ?? []), administrators])
          .apply(([c, secretArn, regions, r, ext, admins]) =>
            JSON.stringify(secretResourcePolicy({ accountId: c.accountId, partition: c.partition, secretArn, replicaRegions: regions, readers: r, externalReaders: ext, administrators: admins, denyOtherPrincipals })),
          ),
      },
      { parent: this },
    );
  }

  private createReaderPolicy(name: string, args: AppStoreConnectApiKeyArgs, deployment: Deployment, kmsKeyArn: pulumi.Output<string>): aws.iam.Policy {
    return new aws.iam.Policy(
      `${name}-reader`,
      {
        description: pulumi.interpolate`Read the App Store Connect API key in ${this.secret.name}`,
        policy: pulumi
          .all([deployment.ctx, this.secret.arn, kmsKeyArn, pulumi.all(args.replicaRegions ?? [])])
          .apply(([c, secretArn, keyArn, regions]) => JSON.stringify(readerPolicy({ ...c, secretArn, kmsKeyArn: keyArn, replicaRegions: regions }))),
      },
      { parent: this },
    );
  }

  /**
   * A list: one attachment per role (planAttachments names them). One Output of a list: a single
   * exclusive attachment of the reader policy, which no one else attaches.
   */
  private attachReaders(name: string, readers: AppStoreConnectApiKeyArgs["readers"], refs: ReaderRef[] | undefined, checkedArns: pulumi.Output<string[]>, policy: aws.iam.Policy): void {
    if (readers === undefined) return;
    if (!Array.isArray(readers) || refs === undefined) {
      const roles = checkedArns.apply((arns) => [...new Set(arns.map(roleNameFromArn))]);
      new aws.iam.PolicyAttachment(`${name}-readers`, { policyArn: policy.arn, roles }, { parent: this });
      return;
    }
    for (const { suffix, reader } of planAttachments(refs)) {
      const given = readers[reader]!;
      // After the account check, so a reader of another account stops every attachment.
      const role = pulumi.all([checkedArns, given instanceof aws.iam.Role ? given.arn : given]).apply(([, arn]) => roleNameFromArn(arn));
      new aws.iam.RolePolicyAttachment(`${name}-reader-${suffix}`, { role, policyArn: policy.arn }, { parent: this });
    }
  }
}

function readerRefsOf(readers: AppStoreConnectApiKeyArgs["readers"]): ReaderRef[] | undefined {
  if (!Array.isArray(readers)) return undefined;
  return readers.map((r) => (typeof r === "string" ? { arn: r } : { deferred: true }));
}

/** KMS alias names allow only letters, digits, `/`, `_` and `-`. */
function aliasSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9/_-]/g, "-");
}
