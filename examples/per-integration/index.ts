import * as pulumi from "@pulumi/pulumi";
import { AppStoreConnectApiKey, type AscRole } from "pulumi-asc-credential";

const config = new pulumi.Config();
const issuerId = config.require("issuerId");
const ciRunnerRoleArn = config.require("ciRunnerRoleArn");

// One key per integration, each created in App Store Connect with the narrowest role it needs:
// a leak or a rotation then touches one integration only.
interface Integration {
  name: string;
  role: AscRole[];
  readers: string[];
  onRotate?: string;
}
const integrations: Integration[] = [
  // Uploads builds and manages TestFlight from CI.
  { name: "ci", role: ["DEVELOPER"], readers: [ciRunnerRoleArn], onRotate: "echo \"CI key now $ASC_KEY_ID; revoke $ASC_PREVIOUS_KEY_ID once CI is green\"" },
  // Changes prices and metadata.
  { name: "pricing", role: ["APP_MANAGER"], readers: config.getObject<string[]>("pricingReaders") ?? [] },
  // Downloads sales and finance reports.
  { name: "analytics", role: ["SALES", "FINANCE"], readers: config.getObject<string[]>("analyticsReaders") ?? [] },
];

const keys = integrations.map(
  (i) =>
    new AppStoreConnectApiKey(`asc-${i.name}`, {
      keyId: config.require(`${i.name}KeyId`),
      issuerId,
      privateKey: config.requireSecret(`${i.name}PrivateKey`),
      role: i.role,
      readers: i.readers,
      secretName: `app-store-connect/${pulumi.getStack()}/${i.name}`,
      tags: { integration: i.name },
      ...(i.onRotate ? { onRotate: { command: i.onRotate } } : {}),
    }),
);

export const secrets = Object.fromEntries(keys.map((k, n) => [integrations[n]!.name, { secretArn: k.secretArn, keyId: k.keyId, previousKeyId: k.previousKeyId }]));
