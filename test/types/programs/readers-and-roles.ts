// Ordinary Pulumi values where a newcomer would pass them.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AppStoreConnectApiKey, type AscRole } from "pulumi-asc-credential";

const config = new pulumi.Config();
const iam = new pulumi.StackReference("acme/iam/prod");
const lambda = new aws.iam.Role("lambda", { assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "lambda.amazonaws.com" }) });

// readers: one Output of a whole list, as a StackReference gives it.
const fromStack = new AppStoreConnectApiKey("from-stack", {
  keyId: config.require("keyId"),
  issuerId: config.require("issuerId"),
  privateKey: config.requireSecret("privateKey"),
  readers: iam.getOutput("readerRoleArns") as pulumi.Output<string[]>,
  role: pulumi.output<AscRole>("APP_MANAGER"),
});

// readers: role objects, ARN strings and ARN Outputs mixed; role: an Input of a list.
const mixed = new AppStoreConnectApiKey("mixed", {
  keyId: config.require("keyId"),
  issuerId: config.require("issuerId"),
  privateKey: config.requireSecret("privateKey"),
  readers: [lambda, "arn:aws:iam::123456789012:role/ci", lambda.arn, iam.getOutput("oneRoleArn") as pulumi.Output<string>],
  role: config.requireObject<AscRole[]>("roles"),
});

// The children are there to depend on (awsx's rule).
new aws.s3.BucketObject("after", { bucket: "b", content: "x" }, { dependsOn: [fromStack.probe, fromStack.secret, mixed.secretVersion] });

export const arns = [fromStack.secretArn, mixed.secretArn];
