/**
 * The IAM documents behind {@link AppStoreConnectApiKey}, as pure functions of ARNs and IDs.
 *
 * Nothing here imports Pulumi, so each policy can be evaluated on its own (the component tests
 * run them through an IAM simulator). Callers `JSON.stringify` the result.
 * @packageDocumentation
 */

/** One IAM policy statement, in AWS's JSON shape. */
export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | { AWS: string | string[] };
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

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
 * The role name in an IAM role ARN, path excluded, as `aws.iam.RolePolicyAttachment.role` wants
 * it: `arn:aws:iam::123456789012:role/ci/deployer` → `deployer`.
 * @throws Error when the ARN is not an IAM role ARN (the message quotes the ARN, which is not secret).
 */
export function roleNameFromArn(arn: string): string {
  const match = /^arn:[a-z-]+:iam::\d{12}:role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/.exec(arn);
  if (!match?.[1]) {
    throw new Error(
      `readers: '${arn}' is not an IAM role ARN. Give role ARNs like arn:aws:iam::123456789012:role/my-role (the ARN shown on the role's page in the IAM console).`,
    );
  }
  return match[1];
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
  /** Reader role ARNs in this account (their access comes from the reader IAM policy). */
  readers?: readonly string[];
  /** Principals in other accounts allowed to read: the policy itself grants them read access. */
  externalReaders?: readonly string[];
  /** Principal ARNs (IAM role or user ARNs, wildcards allowed) that manage the secret. */
  administrators?: readonly string[];
  /** Deny `secretsmanager:*` to every principal not listed (default true). */
  denyOtherPrincipals?: boolean;
}

/**
 * Resource policy of the secret. Returns `undefined` when it would have no statement (nothing to
 * deny, nobody external to admit), because Secrets Manager rejects an empty policy.
 *
 * The deny matches on `aws:PrincipalArn`, not on `Principal`: for an assumed-role session that key
 * holds the role's ARN (not the `sts:…:assumed-role/…/session` ARN), so listing a role covers every
 * session of it, and unlike `NotPrincipal` it does not misfire for roles with a permissions
 * boundary. The account root is always excluded so the root user can still replace the policy.
 */
export function secretResourcePolicy(input: SecretResourcePolicyInput): PolicyDocument | undefined {
  const statements: PolicyStatement[] = [];
  const external = unique(input.externalReaders ?? []);
  if (input.denyOtherPrincipals ?? true) {
    const allowed = unique([
      accountRootArn(input),
      ...(input.administrators ?? []),
      ...(input.readers ?? []),
      ...external,
    ]);
    statements.push({
      Sid: "DenyEveryoneNotListed",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "secretsmanager:*",
      Resource: input.secretArn,
      Condition: { ArnNotLike: { "aws:PrincipalArn": allowed } },
    });
  }
  if (external.length > 0) {
    statements.push({
      Sid: "AllowExternalReaders",
      Effect: "Allow",
      Principal: { AWS: one(external) },
      Action: [...SECRET_READ_ACTIONS],
      Resource: input.secretArn,
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
 * only through Secrets Manager. Never a wildcard resource.
 */
export function readerPolicy(input: ReaderPolicyInput): PolicyDocument {
  const secretArns = unique([input.secretArn, ...(input.replicaRegions ?? []).map((r) => replicaSecretArn(input.secretArn, r))]);
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
        Condition: { StringEquals: { "kms:ViaService": secretsManagerServiceName(input) } },
      },
    ],
  };
}
