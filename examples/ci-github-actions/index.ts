import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AppStoreConnectApiKey } from "pulumi-asc-credential";

const config = new pulumi.Config();

// The one repository and branch whose workflow runs may read the key.
const repository = config.require("githubRepository");
const ref = config.get("githubRef") ?? "refs/heads/main";
if (!/^[\w.-]+\/[\w.-]+$/.test(repository)) throw new Error(`githubRepository must be owner/name, not '${repository}'`);
if (!/^refs\/(heads|tags)\/[\w./-]+$/.test(ref) || ref.includes("*")) throw new Error(`githubRef must be one branch or tag (refs/heads/main), not '${ref}'`);

// GitHub's OIDC provider: one per AWS account. Pass its ARN when the account has it already.
const GITHUB_OIDC = "token.actions.githubusercontent.com";
const oidcProviderArn: pulumi.Input<string> =
  config.get("oidcProviderArn") ??
  new aws.iam.OpenIdConnectProvider("github-actions", {
    url: `https://${GITHUB_OIDC}`,
    // The audience aws-actions/configure-aws-credentials asks for. AWS trusts GitHub's
    // certificate through its own CA list, so no thumbprint is pinned.
    clientIdLists: ["sts.amazonaws.com"],
  }).arn;

// Assumable only with a GitHub OIDC token for this repository and ref: `sub` is matched exactly
// (StringEquals, no wildcard), so other repositories, branches, tags and pull requests get nothing.
const readerRole = new aws.iam.Role("github-actions-asc-reader", {
  description: `Reads the App Store Connect API key from ${repository} (${ref}) on GitHub Actions`,
  maxSessionDuration: 3600,
  assumeRolePolicy: pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: oidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${GITHUB_OIDC}:aud`]: "sts.amazonaws.com",
            [`${GITHUB_OIDC}:sub`]: `repo:${repository}:ref:${ref}`,
          },
        },
      },
    ],
  }),
});

const ascKey = new AppStoreConnectApiKey("app-store-connect-ci", {
  keyId: config.require("keyId"),
  issuerId: config.require("issuerId"),
  // Encrypted in the stack config (`pulumi config set --secret privateKey < AuthKey_<ID>.p8`).
  privateKey: config.requireSecret("privateKey"),
  // Uploads builds and submits them for review (TestFlight, App Store).
  role: "APP_MANAGER",
  // The role gets GetSecretValue on this secret and kms:Decrypt via Secrets Manager; nothing else.
  readers: [readerRole],
  secretName: `app-store-connect/${pulumi.getStack()}/github-actions`,
  tags: { consumer: "github-actions", repository },
});

// For the workflow: role-to-assume and secret-id (.github/workflows/release.yml).
export const readerRoleArn = readerRole.arn;
export const secretArn = ascKey.secretArn;
export const keyId = ascKey.keyId;
export const fingerprint = ascKey.fingerprint;
// After a rotation: revoke this key in App Store Connect once the release workflow is green.
export const previousKeyId = ascKey.previousKeyId;
