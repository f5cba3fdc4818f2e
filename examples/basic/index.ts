import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AppStoreConnectApiKey } from "pulumi-asc-credential";

const config = new pulumi.Config();

// Two workloads that call the App Store Connect API: a Lambda and an ECS task.
function serviceRole(name: string, service: string): aws.iam.Role {
  return new aws.iam.Role(name, {
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
    }),
  });
}
const releaseNotesLambda = serviceRole("release-notes-lambda", "lambda.amazonaws.com");
const metadataSyncTask = serviceRole("metadata-sync-task", "ecs-tasks.amazonaws.com");

const ascKey = new AppStoreConnectApiKey("app-store-connect", {
  keyId: config.require("keyId"),
  issuerId: config.require("issuerId"),
  // Encrypted in the stack config (`pulumi config set --secret privateKey < AuthKey_<ID>.p8`).
  privateKey: config.requireSecret("privateKey"),
  role: "APP_MANAGER",
  // Roles created here are passed as they are; their attachments are named by position, so add
  // new ones at the end (README "Readers"). Plain ARN strings have no such rule.
  readers: [releaseNotesLambda, metadataSyncTask],
});

// Consumers read the secret with `AscTokenSource` from `pulumi-asc-credential/runtime`.
export const secretArn = ascKey.secretArn;
export const keyId = ascKey.keyId;
export const fingerprint = ascKey.fingerprint;
export const previousKeyId = ascKey.previousKeyId;
export const readerPolicyArn = ascKey.readerPolicyArn;
