/**
 * Reader roles: checking their ARNs and naming the reader policy's attachments. Pure: no Pulumi.
 * Why attachments are named this way: README "Readers".
 * @packageDocumentation
 */
import { AscCredentialError } from "../../core/errors";
import { accountOfArn } from "./policies";

/**
 * The role name in an IAM role ARN, path excluded, as `aws.iam.RolePolicyAttachment.role` wants
 * it: `arn:aws:iam::123456789012:role/ci/deployer` → `deployer`.
 * @throws AscCredentialError `READER_INVALID` (field `readers`) when it is not an IAM role ARN.
 */
export function roleNameFromArn(arn: string): string {
  const match = /^arn:[a-z-]+:iam::\d{12}:role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/.exec(arn);
  if (!match?.[1]) {
    throw new AscCredentialError(
      "READER_INVALID",
      `readers: ${quoteArn(arn)} is not an IAM role ARN. Give role ARNs like arn:aws:iam::123456789012:role/my-role (the ARN shown on the role's page in the IAM console), or aws.iam.Role objects.`,
      "readers",
    );
  }
  return match[1];
}

/**
 * The role name of a reader ARN, once the deploying account (and partition) is known. A reader is
 * attached by role name (that is all `aws.iam.RolePolicyAttachment` takes), so a role ARN of
 * another account or partition would silently grant a same-named role of this account instead:
 * refused.
 * @throws AscCredentialError `READER_INVALID` (also for another partition), or `READER_OTHER_ACCOUNT` naming the fix (`externalReaders`).
 */
export function localReaderRoleName(arn: string, accountId: string, partition?: string): string {
  const roleName = roleNameFromArn(arn);
  const arnPartition = arn.split(":")[1];
  if (partition !== undefined && arnPartition !== partition) {
    throw new AscCredentialError(
      "READER_INVALID",
      `readers: ${quoteArn(arn)} is a role in partition ${String(arnPartition)}, but the secret is deployed in partition ${partition}. Give the ARN as arn:${partition}:iam::<account>:role/<name> (the role's ARN in the deploying partition), or pass the aws.iam.Role itself.`,
      "readers",
    );
  }
  const account = accountOfArn(arn);
  if (account !== accountId) {
    throw new AscCredentialError(
      "READER_OTHER_ACCOUNT",
      `readers: ${quoteArn(arn)} is a role in account ${String(account)}, but the secret is deployed in account ${accountId}. readers must be roles of the deploying account (each gets the reader policy attached by role name); list a role of another account in externalReaders instead (its own account must also grant it secretsmanager:GetSecretValue on the secret).`,
      "readers",
    );
  }
  return roleName;
}

/**
 * Readers given as one `Output` of a list get one exclusive `aws.iam.PolicyAttachment`, which AWS
 * refuses without a role: an empty list is reported here, before anything is created.
 * @throws AscCredentialError `READER_INVALID` (field `readers`).
 */
export function checkExclusiveReaders(arns: readonly string[]): void {
  if (arns.length > 0) return;
  throw new AscCredentialError(
    "READER_INVALID",
    "readers: the list of readers is empty. A list given as one Output is attached with one exclusive aws.iam.PolicyAttachment, which AWS refuses without a role. Leave readers out while there is no reader, or give at least one role ARN.",
    "readers",
  );
}

/** A reader as the component sees it at construction: a known ARN, or a value known later. */
export type ReaderRef = { arn: string } | { deferred: true };

/** One attachment of the reader policy: its name suffix and the reader it attaches. */
export interface PlannedAttachment {
  /** `<component>-reader-<suffix>`: the role name, or `#<n>` for the n-th deferred reader. */
  suffix: string;
  /** Index into the readers list. */
  reader: number;
}

/**
 * Names one attachment per role. A known ARN's attachment is named after its role name, so adding,
 * removing or reordering such readers never touches another's; two ARNs of one role name share
 * one (AWS holds one attachment per role and policy). A reader known only later (an Output, an
 * `aws.iam.Role`) is named by its position among those (`#0`, `#1`, …); `#` cannot occur in a
 * role name, so the two kinds never collide.
 * @throws AscCredentialError `READER_INVALID` for a known ARN that is not a role ARN.
 */
export function planAttachments(readers: readonly ReaderRef[]): PlannedAttachment[] {
  const planned: PlannedAttachment[] = [];
  const seen = new Set<string>();
  let deferred = 0;
  readers.forEach((reader, index) => {
    if ("arn" in reader) {
      const roleName = roleNameFromArn(reader.arn);
      if (!seen.has(roleName)) planned.push({ suffix: roleName, reader: index });
      seen.add(roleName);
    } else {
      planned.push({ suffix: `#${deferred++}`, reader: index });
    }
  });
  return planned;
}

/** An ARN is not secret, but a value in its slot could be anything: quoted only when ARN-shaped. */
function quoteArn(value: string): string {
  return /^arn:[\x21-\x7e]{1,250}$/.test(value) && !/[A-Za-z0-9+/]{40,}/.test(value) ? `'${value}'` : `a value of ${value.length} characters that is not an ARN`;
}
