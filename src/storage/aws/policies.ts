/**
 * The IAM documents behind {@link AppStoreConnectApiKey}, as pure functions of ARNs and IDs.
 *
 * Nothing here imports Pulumi, so each policy can be evaluated on its own (the component tests
 * run them through an IAM simulator). Callers `JSON.stringify` the result.
 * @packageDocumentation
 */
import { AscCredentialError } from "../../core/errors";

/** The parts every {@link PolicyStatement} has. */
export interface PolicyStatementBase {
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | { AWS: string | string[] };
  Resource: string | string[];
  /** Operator → condition key → value(s). Operators in one statement must all hold (AND). */
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** One IAM policy statement, in AWS's JSON shape: exactly one of `Action` and `NotAction`. */
export type PolicyStatement =
  | (PolicyStatementBase & { Action: string | string[]; NotAction?: never })
  | (PolicyStatementBase & { NotAction: string | string[]; Action?: never });

/** An IAM policy document (identity, resource or KMS key policy). */
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

/** Where the secret lives: enough to name the account root and the Secrets Manager endpoint. */
export interface AccountContext {
  /** 12-digit AWS account ID that owns the secret and the key. */
  accountId: string;
  /** AWS partition (`aws`, `aws-cn`, `aws-us-gov`). */
  partition: string;
  /** Region of the secret's primary copy, e.g. `eu-west-1`. */
  region: string;
  /** DNS suffix of the partition (`amazonaws.com`, `amazonaws.com.cn`). Default `amazonaws.com`. */
  dnsSuffix?: string;
}

/** The actions a reader needs: read the value and its metadata (rotation tags, version stages). */
export const SECRET_READ_ACTIONS: readonly string[] = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"];

/** The data-key actions Secrets Manager performs on the caller's behalf when it encrypts and decrypts a secret. */
export const KMS_SECRETS_MANAGER_ACTIONS: readonly string[] = [
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:ReEncrypt*",
  "kms:GenerateDataKey*",
  "kms:DescribeKey",
];

/** `secretsmanager.<region>.<dnsSuffix>`: the value `kms:ViaService` carries when Secrets Manager calls KMS. */
export function secretsManagerServiceName(ctx: AccountContext): string {
  return `secretsmanager.${ctx.region}.${ctx.dnsSuffix ?? "amazonaws.com"}`;
}

/** The account root principal (`arn:<partition>:iam::<account>:root`). */
export function accountRootArn(ctx: Pick<AccountContext, "accountId" | "partition">): string {
  return `arn:${ctx.partition}:iam::${ctx.accountId}:root`;
}

/** Account ID of an IAM ARN (`arn:aws:iam::123456789012:role/x` → `123456789012`), or undefined. */
export function accountOfArn(arn: string): string | undefined {
  const account = arn.split(":")[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined;
}

/**
 * Checks a `kmsKeyArn` given as a plain string: it must be a key ARN. An alias ARN, alias name or
 * bare key ID would be accepted by Secrets Manager but is useless as the `Resource` of the reader
 * policy's `kms:Decrypt` statement (IAM matches the key ARN, never an alias), so readers could not
 * decrypt.
 * @throws AscCredentialError `KMS_KEY_ARN_INVALID` naming the field, what was seen and the fix.
 */
export function checkKmsKeyArn(value: string): void {
  if (/^arn:[a-z-]+:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(value)) return;
  const isAlias = value.includes(":alias/") || value.startsWith("alias/");
  // Quoted only when it looks like an ARN, alias or key ID, so a pasted secret is never echoed.
  const quotable = /^(arn:|alias\/)[\x21-\x7e]{1,250}$|^(mrk-)?[0-9a-f-]{32,36}$/.test(value);
  const seen = isAlias && quotable ? `the alias '${value}'` : quotable ? `'${value}'` : "the value given";
  throw new AscCredentialError(
    "KMS_KEY_ARN_INVALID",
    `kmsKeyArn: ${seen} is not a KMS key ARN.${isAlias ? " IAM policies match a key by its key ARN, never by an alias, so the readers could not decrypt." : ""} Pass the key ARN (arn:aws:kms:<region>:<account>:key/<key-id>), e.g. aws.kms.getKeyOutput({ keyId: "alias/my-key" }).arn.`,
    "kmsKeyArn",
  );
}

/**
 * The ARN a replica of `secretArn` has in `region`: the same ARN with the region swapped, which is
 * how Secrets Manager names replicas.
 */
export function replicaSecretArn(secretArn: string, region: string): string {
  const parts = secretArn.split(":");
  parts[3] = region;
  return parts.join(":");
}

function one(values: readonly string[]): string | string[] {
  return values.length === 1 ? (values[0] as string) : [...values];
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** Inputs of {@link kmsKeyPolicy}. */
export interface KmsKeyPolicyInput extends AccountContext {
  /**
   * Principals in other accounts that may decrypt the secret (through Secrets Manager only).
   * Principals of the key's own account need no key-policy entry: the root statement delegates
   * them to IAM.
   */
  externalReaders?: readonly string[];
}

/**
 * Key policy for the customer-managed KMS key that encrypts the secret.
 *
 * In a key policy `Resource: "*"` means "this key" (a key policy can only ever apply to the key it
 * is attached to), so it is the one place these documents use `"*"`.
 */
export function kmsKeyPolicy(input: KmsKeyPolicyInput): PolicyDocument {
  const viaService = secretsManagerServiceName(input);
  const statements: PolicyStatement[] = [
    {
      // AWS's default "Enable IAM policies" statement. Without it the key is unmanageable: nobody,
      // not even an account admin, could change its policy or schedule its deletion once the
      // creating principal is gone (AWS refuses such policies unless BypassPolicyLockoutSafetyCheck
      // is set). It grants nothing by itself: it lets IAM policies in this account grant key access.
      Sid: "EnableIamPoliciesForThisAccount",
      Effect: "Allow",
      Principal: { AWS: accountRootArn(input) },
      Action: "kms:*",
      Resource: "*",
    },
    {
      // Same shape as the AWS-managed aws/secretsmanager key: principals of this account may use
      // the key only when Secrets Manager in this region calls KMS for them. Who may call Secrets
      // Manager on this secret is decided by the secret's resource policy and IAM.
      Sid: "AllowUseOnlyViaSecretsManagerInThisAccount",
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: [...KMS_SECRETS_MANAGER_ACTIONS],
      Resource: "*",
      Condition: {
        StringEquals: {
          "kms:ViaService": viaService,
          "kms:CallerAccount": input.accountId,
        },
      },
    },
  ];
  const external = unique(input.externalReaders ?? []);
  if (external.length > 0) {
    statements.push({
      Sid: "AllowExternalReadersDecryptViaSecretsManager",
      Effect: "Allow",
      Principal: { AWS: one(external) },
      Action: ["kms:Decrypt", "kms:DescribeKey"],
      Resource: "*",
      Condition: { StringEquals: { "kms:ViaService": viaService } },
    });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/** Inputs of {@link secretResourcePolicy}. */
export interface SecretResourcePolicyInput extends Pick<AccountContext, "accountId" | "partition"> {
  /** ARN of the secret the policy is attached to. */
  secretArn: string;
  /**
   * Regions holding replicas. Secrets Manager copies the resource policy to each replica, whose ARN
   * differs by region, so every statement names the replica ARNs too.
   */
  replicaRegions?: readonly string[];
  /** Reader role ARNs in this account (their access comes from the reader IAM policy). */
  readers?: readonly string[];
  /** Principals in other accounts allowed to read: the policy itself grants them read access. */
  externalReaders?: readonly string[];
  /** Principal ARNs (IAM role or user ARNs, wildcards allowed) that manage the secret. */
  administrators?: readonly string[];
  /**
   * Deny `secretsmanager:*` to every principal not listed, and every action but reading to the
   * readers (unless they are administrators too). Default true.
   */
  denyOtherPrincipals?: boolean;
}

/** The secret's ARN followed by the ARN of each replica (the same ARN in the replica's region). */
export function secretAndReplicaArns(secretArn: string, replicaRegions: readonly string[] = []): string[] {
  return unique([secretArn, ...replicaRegions.map((r) => replicaSecretArn(secretArn, r))]);
}

/**
 * Resource policy of the secret. Returns `undefined` when it would have no statement (nothing to
 * deny, nobody external to admit), because Secrets Manager rejects an empty policy.
 *
 * The denies match on `aws:PrincipalArn`, not on `Principal`: for an assumed-role session that key
 * holds the role's ARN (not the `sts:…:assumed-role/…/session` ARN), so listing a role covers every
 * session of it, and unlike `NotPrincipal` it does not misfire for roles with a permissions
 * boundary. The account root is always excluded so the root user can still replace the policy.
 *
 * Readers are exempt from the first deny, so a second one keeps them to reading even when their
 * identity policies grant more (`*:*`): a compromised reader cannot overwrite, delete or re-share
 * the key. Administrators and the root are exempt from it, so a role that both administers and
 * reads keeps control.
 */
export function secretResourcePolicy(input: SecretResourcePolicyInput): PolicyDocument | undefined {
  const statements: PolicyStatement[] = [];
  const resource = one(secretAndReplicaArns(input.secretArn, input.replicaRegions));
  const external = unique(input.externalReaders ?? []);
  const readers = unique(input.readers ?? []);
  const managers = unique([accountRootArn(input), ...(input.administrators ?? [])]);
  if (input.denyOtherPrincipals ?? true) {
    statements.push({
      Sid: "DenyEveryoneNotListed",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "secretsmanager:*",
      Resource: resource,
      Condition: { ArnNotLike: { "aws:PrincipalArn": unique([...managers, ...readers, ...external]) } },
    });
    if (readers.length > 0) {
      statements.push({
        Sid: "DenyReadersAnythingButReading",
        Effect: "Deny",
        Principal: { AWS: "*" },
        NotAction: [...SECRET_READ_ACTIONS],
        Resource: resource,
        Condition: { ArnLike: { "aws:PrincipalArn": readers }, ArnNotLike: { "aws:PrincipalArn": managers } },
      });
    }
  }
  if (external.length > 0) {
    statements.push({
      Sid: "AllowExternalReaders",
      Effect: "Allow",
      Principal: { AWS: one(external) },
      Action: [...SECRET_READ_ACTIONS],
      Resource: resource,
    });
  }
  return statements.length > 0 ? { Version: "2012-10-17", Statement: statements } : undefined;
}

/** Inputs of {@link readerPolicy}. */
export interface ReaderPolicyInput extends AccountContext {
  /** ARN of the secret. */
  secretArn: string;
  /** ARN of the KMS key that encrypts the secret's primary copy. */
  kmsKeyArn: string;
  /** Regions holding replicas; each replica ARN is granted read access too. */
  replicaRegions?: readonly string[];
}

/**
 * Identity policy for reader roles: read this secret (and its replicas) and decrypt with this key,
 * only through Secrets Manager and only for this secret. Never a wildcard resource.
 */
export function readerPolicy(input: ReaderPolicyInput): PolicyDocument {
  const secretArns = secretAndReplicaArns(input.secretArn, input.replicaRegions);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadThisSecret",
        Effect: "Allow",
        Action: [...SECRET_READ_ACTIONS],
        Resource: one(secretArns),
      },
      {
        Sid: "DecryptThisSecretViaSecretsManager",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: input.kmsKeyArn,
        // Secrets Manager passes the secret's ARN as the `SecretARN` encryption context, so a
        // shared key (`kmsKeyArn`) decrypts only this secret for the readers. Replicas need no
        // entry: they are encrypted with their region's aws/secretsmanager key.
        Condition: {
          StringEquals: {
            "kms:ViaService": secretsManagerServiceName(input),
            "kms:EncryptionContext:SecretARN": input.secretArn,
          },
        },
      },
    ],
  };
}
