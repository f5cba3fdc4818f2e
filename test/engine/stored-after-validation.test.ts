/**
 * Engine tier: what a store writes waits for the probe. Every store's component builds the stored
 * JSON with `createValidatedCredential` and writes it with its `storeOptions`; here a STAND-IN
 * store takes the place of the AWS SecretVersion (no AWS plugin can be had here) under a real
 * component, so the real engine orders the real shared code. A key the probe refuses (online,
 * against the FAKE App Store Connect API) writes nothing, at create and at rotation.
 */
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Stack } from "@pulumi/pulumi/automation";
import { createValidatedCredential } from "../../src/storage/credential";
import { createSandbox, failureText, inlineStack, keyCopies, OutputLog, requirePulumi, type EngineSandbox } from "../support/engine-harness";
import { StoreStandIn, storeWrites } from "../support/engine-standins";
import { FakeAscApi } from "../support/fake-asc-api";
import { containsKeyMaterial, generateTestKey, TEAM } from "../support/keys";
import { catchProgramErrors } from "../storage/harness";

jest.setTimeout(180_000);

const keyA = generateTestKey();
const keyB = generateTestKey();
const unknownKey = generateTestKey();

class TestStore extends pulumi.ComponentResource {
  readonly validatedAt: pulumi.Output<string>;
  readonly storeUrn: pulumi.Output<string>;
  constructor(name: string, args: { keyId: string; privateKey: string; baseUrl: string; logFile: string }) {
    super("asc-credential-test:index:TestStore", name, {}, {});
    const credential = createValidatedCredential(this, name, { keyId: args.keyId, issuerId: TEAM.issuerId, privateKey: args.privateKey, validation: { mode: "online", baseUrl: args.baseUrl, timeoutMs: 5000 } }, []);
    const store = new StoreStandIn(`${name}-version`, { storedJson: credential.storedJson, fingerprint: credential.probe.fingerprint, logFile: args.logFile }, credential.storeOptions);
    this.validatedAt = credential.probe.validatedAt;
    this.storeUrn = store.urn;
    this.registerOutputs({ validatedAt: this.validatedAt });
  }
}

let sb: EngineSandbox;
let fake: FakeAscApi;
const log = new OutputLog();

beforeAll(async () => {
  requirePulumi();
  sb = createSandbox("asc-engine-ordering-");
  fake = await FakeAscApi.start();
  fake.registerKey({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, publicKeyPem: keyA.publicKeyPem });
  fake.registerKey({ keyId: "7MN3QZ8WLP", issuerId: TEAM.issuerId, publicKeyPem: keyB.publicKeyPem });
});

afterAll(async () => {
  await fake?.stop();
  sb?.cleanup();
});

function stackFor(project: string, credential: () => { keyId: string; privateKey: string }, logFile: string): Promise<Stack> {
  return inlineStack(sb, sb.workDir(project), project, "dev", async () => {
    const store = new TestStore("key", { ...credential(), baseUrl: fake.baseUrl, logFile });
    return { validatedAt: store.validatedAt, storeUrn: store.storeUrn };
  });
}

test("create: a key the API refuses writes nothing; a valid one is written after the probe validated it", async () => {
  const logFile = join(sb.root, "create.log");
  let credential = { keyId: "Q4K8ZT2RVD", privateKey: unknownKey.pem };
  const stack = await stackFor("create", () => credential, logFile);

  const refused = await failureText(stack.up(log.capture()), log);
  expect(refused).toMatch(/401|rejected the key/);
  expect(storeWrites(logFile)).toEqual([]);

  credential = { keyId: TEAM.keyId, privateKey: keyA.pem };
  const up = await stack.up(log.capture());
  const writes = storeWrites(logFile);
  expect(writes).toHaveLength(1);
  expect(writes[0]!.keyId).toBe(TEAM.keyId);
  expect(Date.parse(writes[0]!.at)).toBeGreaterThanOrEqual(Date.parse(String(up.outputs.validatedAt?.value)));
  // The probe holds its input; the store its input and output (as a SecretVersion does).
  expect(await keyCopies(stack, keyA)).toEqual(["key-probe inputs.privateKey", "key-version inputs.storedJson"]);
});

test("rotation: a refused new key leaves the stored key as it was; an accepted one is written after its probe", async () => {
  const logFile = join(sb.root, "rotation.log");
  let credential: { keyId: string; privateKey: string } = { keyId: TEAM.keyId, privateKey: keyA.pem };
  const stack = await stackFor("rotation", () => credential, logFile);
  await stack.up(log.capture());
  expect(storeWrites(logFile)).toHaveLength(1);

  credential = { keyId: "Q4K8ZT2RVD", privateKey: unknownKey.pem };
  await failureText(stack.up(log.capture()), log);
  expect(storeWrites(logFile)).toHaveLength(1);

  credential = { keyId: "7MN3QZ8WLP", privateKey: keyB.pem };
  const rotated = await stack.up(log.capture());
  const writes = storeWrites(logFile);
  expect(writes.map((w) => w.keyId)).toEqual([TEAM.keyId, "7MN3QZ8WLP"]);
  expect(Date.parse(writes[1]!.at)).toBeGreaterThanOrEqual(Date.parse(String(rotated.outputs.validatedAt?.value)));
  for (const key of [keyA, keyB, unknownKey]) expect(containsKeyMaterial(log.text(), key)).toBe(false);
});

test("pulumi up --target naming the store but not the probe writes nothing after a rotation, and says to include the probe", async () => {
  const logFile = join(sb.root, "target.log");
  let credential: { keyId: string; privateKey: string } = { keyId: TEAM.keyId, privateKey: keyA.pem };
  const stack = await stackFor("target", () => credential, logFile);
  const first = await stack.up(log.capture());
  const storeUrn = String(first.outputs.storeUrn?.value);
  expect(storeUrn).toMatch(/StoreStandIn::key-version$/);

  // The inline program runs in this process: its refusal is also an unhandled rejection here.
  const caught = catchProgramErrors();
  try {
    credential = { keyId: "7MN3QZ8WLP", privateKey: keyB.pem };
    const out = log.capture();
    const text = `${await failureText(stack.up({ ...out, target: [storeUrn] }), log)}\n${out.text()}`;
    expect(text).toMatch(/privateKey is not the key the probe validated in this deployment .*pulumi up --target.*key-probe/);
    for (const key of [keyA, keyB]) expect(containsKeyMaterial(text, key)).toBe(false);
  } finally {
    caught.stop();
  }
  expect(storeWrites(logFile).map((w) => w.keyId)).toEqual([TEAM.keyId]);
  expect(await keyCopies(stack, keyB)).toEqual([]);
});
