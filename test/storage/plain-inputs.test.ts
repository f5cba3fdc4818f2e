/**
 * Every input a store's component sends in plain text (the state, an AWS description or tag, a
 * Vault path or policy) is refused when it holds part of the key: a key pasted into the wrong
 * slot (a swapped CI variable, `description: config.require("privateKey")`) is never written.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AppStoreConnectApiKey } from "../../src/storage/aws";
import { AppStoreConnectApiKey as VaultAppStoreConnectApiKey } from "../../src/storage/vault";
import { acceptedForms, containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";
import { catchProgramErrors, firstProgramError, settle, startRun } from "./harness";

let key: TestKey;
beforeAll(() => {
  key = generateTestKey();
});

/** Pieces of the key as they land in a slot: a PEM body line, and a base64url run (valid in a path or role name). */
function pieces(k: TestKey): { line: string; run: string; pem: string; b64: string } {
  return { line: k.pem.split("\n")[1]!, run: k.der.toString("base64url").slice(40, 100), pem: k.pem, b64: String(acceptedForms(k).base64OfPemOneLine) };
}

async function refusedAt(make: () => void): Promise<{ message: string; registered: string[] }> {
  const caught = catchProgramErrors();
  try {
    const run = await startRun();
    make();
    await firstProgramError(caught);
    await settle();
    return { message: caught.errors.map((e) => e.message).join("\n"), registered: run.resources.map((r) => r.type) };
  } finally {
    caught.stop();
  }
}

const base = (): { keyId: string; issuerId: string; privateKey: pulumi.Output<string> } => ({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: pulumi.secret(key.pem) });

test.each<[string, (p: ReturnType<typeof pieces>) => Record<string, unknown>]>([
  ["description", (p) => ({ description: p.pem })],
  ["tags", (p) => ({ tags: { note: p.line } })],
  ["tags", (p) => ({ tags: { [p.run]: "x" } })],
  ["secretName", (p) => ({ secretName: `app-store-connect/${p.run}` })],
  ["administrators", (p) => ({ administrators: [`arn:aws:iam::111122223333:role/${p.run}`] })],
  ["readers", (p) => ({ readers: [pulumi.output(`arn:aws:iam::111122223333:role/${p.run.slice(0, 40)}`)] })],
  ["externalReaders", (p) => ({ externalReaders: [`arn:aws:iam::444455556666:role/${p.run}`] })],
  ["replicaRegions", (p) => ({ replicaRegions: [p.run] })],
  ["onRotate", (p) => ({ onRotate: { command: `echo ${p.line}` } })],
  ["onRotate", (p) => ({ onRotate: { command: "true", environment: { K: p.b64 } } })],
])("AWS: part of the key in %s is refused before anything is registered, naming the field, echoing nothing", async (field, slot) => {
  const { message, registered } = await refusedAt(() => new AppStoreConnectApiKey("ci", { ...base(), ...slot(pieces(key)) }));
  expect(message).toMatch(new RegExp(`(^|: )${field}: holds part of privateKey`));
  expect(containsKeyMaterial(message, key)).toBe(false);
  expect(registered).toEqual(["asc-credential:index:AppStoreConnectApiKey"]);
});

test.each<[string, (p: ReturnType<typeof pieces>) => Record<string, unknown>]>([
  ["path", (p) => ({ path: `app-store-connect/${p.run}` })],
  ["mount", (p) => ({ mount: p.run })],
  ["namespace", (p) => ({ namespace: p.run })],
  ["readerPolicyName", (p) => ({ readerPolicyName: p.run })],
  ["jwtRole", (p) => ({ jwtRole: { boundAudiences: ["x"], boundSubject: p.line } })],
  ["onRotate", (p) => ({ onRotate: { command: `echo ${p.line}` } })],
])("Vault: part of the key in %s is refused before anything is registered, naming the field, echoing nothing", async (field, slot) => {
  const { message, registered } = await refusedAt(() => new VaultAppStoreConnectApiKey("ci", { ...base(), ...slot(pieces(key)) }));
  expect(message).toMatch(new RegExp(`(^|: )${field}: holds part of privateKey`));
  expect(containsKeyMaterial(message, key)).toBe(false);
  expect(registered).toEqual(["asc-credential:vault:AppStoreConnectApiKey"]);
});

test("another key's material, ordinary values and aws.iam.Role readers pass (the check looks for this key only)", async () => {
  const other = pieces(generateTestKey());
  const run = await startRun();
  const role = new aws.iam.Role("reader", { assumeRolePolicy: "{}" });
  const c = new AppStoreConnectApiKey("ci", { ...base(), description: `rotated 2030-01-02, ticket OPS-1234 ${other.line}`, tags: { team: "mobile" }, readers: [role], onRotate: { command: "./notify.sh" } });
  await settle([c.secretArn, c.readerPolicyArn]);
  expect(run.all("aws:secretsmanager/secretVersion:SecretVersion")).toHaveLength(1);
});
