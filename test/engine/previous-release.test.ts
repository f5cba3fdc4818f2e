/**
 * Engine tier: a stack created by 0.1.0 (its packed tarball, as users installed it) keeps working
 * after the upgrade. The real CLI runs `up` with 0.1.0 installed; then the package in the same
 * project becomes this version and `preview` must show no change and no replacement, `up` must
 * be a no-op, and a rotation must work from the old state. Counts where the state holds the key,
 * before and after.
 */
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { ApiKeyProbe } from "../../src";
import { runSync } from "../support/child";
import { PREVIOUS_RELEASE_TARBALL } from "../support/consumer-project";
import { createSandbox, inlineStack, keyCopies, OutputLog, readStateText, requirePulumi, stateResources, type EngineSandbox } from "../support/engine-harness";
import { containsKeyMaterial, generateTestKey, TEAM } from "../support/keys";

jest.setTimeout(180_000);

const PROBE_TYPE = "pulumi-nodejs:dynamic/asc-credential:ApiKeyProbe";
const keyA = generateTestKey();
const keyB = generateTestKey();

let sb: EngineSandbox;
const log = new OutputLog();
let installed: string;

beforeAll(() => {
  requirePulumi();
  sb = createSandbox("asc-engine-previous-");
  // The project's own node_modules, nearer than the sandbox's: the dynamic-provider process
  // resolves `pulumi-asc-credential/probe-provider` here, so swapping this entry is the upgrade.
  mkdirSync(join(sb.root, "project", "node_modules"), { recursive: true });
  installed = join(sb.root, "project", "node_modules", "pulumi-asc-credential");
  const extracted = join(sb.root, "release-0.1.0");
  mkdirSync(extracted);
  expect(runSync("tar", ["-xzf", PREVIOUS_RELEASE_TARBALL, "-C", extracted]).code).toBe(0);
  symlinkSync(join(extracted, "package"), installed);
});

afterAll(() => {
  sb?.cleanup();
});

function upgrade(): void {
  rmSync(installed);
  symlinkSync(sb.packageDir, installed);
}

test("0.1.0's stack previews with no changes after the upgrade, updates as a no-op, rotates, and holds the key once fewer", async () => {
  const workDir = join(sb.root, "project");
  // 0.1.0's own ApiKeyProbe class, its dependencies resolving to this process's @pulumi/pulumi.
  const previous = require(join(installed, "dist", "index.js")) as { ApiKeyProbe: typeof ApiKeyProbe; AscCredentialError: unknown };
  let Probe: typeof ApiKeyProbe = previous.ApiKeyProbe;
  let credential: { keyId: string; privateKey: string } = { keyId: TEAM.keyId, privateKey: keyA.pem };
  const stack: Stack = await inlineStack(sb, workDir, "previous", "dev", async () => {
    const probe = new Probe("probe", { keyId: credential.keyId, issuerId: TEAM.issuerId, privateKey: credential.privateKey });
    return { keyId: probe.keyId, fingerprint: probe.fingerprint, previousKeyId: probe.previousKeyId };
  });

  const created = await stack.up(log.capture());
  expect(created.summary.resourceChanges).toEqual({ create: 2 });
  const before = await keyCopies(stack, keyA);
  // 0.1.0 kept the normalised key twice: as the probe's input and as its secret output.
  expect(before).toEqual(["probe inputs.privateKey", "probe outputs.privateKey"]);

  upgrade();
  Probe = ApiKeyProbe;
  const preview = await stack.preview({ diff: true, ...log.capture() });
  expect(preview.changeSummary).toEqual({ same: 2 });

  const noop = await stack.up(log.capture());
  expect(noop.summary.resourceChanges).toEqual({ same: 2 });
  expect(noop.outputs.keyId?.value).toBe(TEAM.keyId);

  credential = { keyId: "7MN3QZ8WLP", privateKey: keyB.pem };
  const rotated = await stack.up(log.capture());
  expect(rotated.summary.resourceChanges).toEqual({ same: 1, update: 1 });
  expect(rotated.outputs.previousKeyId?.value).toBe(TEAM.keyId);
  const after = await keyCopies(stack, keyB);
  expect(after).toEqual(["probe inputs.privateKey"]);
  expect(await keyCopies(stack, keyA)).toEqual([]);
  process.stdout.write(`encrypted copies of the key in the probe's state: 0.1.0 ${before.length}, this version ${after.length}\n`);

  const state = readStateText(sb, "previous", "dev");
  expect(stateResources(state).filter((r) => r.type === PROBE_TYPE)).toHaveLength(1);
  for (const key of [keyA, keyB]) expect(containsKeyMaterial(state + log.text(), key)).toBe(false);

  const destroyed = await stack.destroy(log.capture());
  expect(destroyed.summary.resourceChanges).toEqual({ delete: 2 });
});
