/**
 * Engine tier: ApiKeyProbe under the real Pulumi CLI (local file backend, passphrase secrets),
 * driven by the Automation API with inline programs (no Node language host can be obtained
 * here; see test/support/engine-harness.ts).
 *
 * The tests share one sandbox and run in order; the last one scans everything the others left
 * behind (state, history, backups, CLI export, every captured stdout/stderr) for key material.
 */
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { ApiKeyProbe } from "../../src";
import {
  cliStackExport,
  createSandbox,
  type EngineSandbox,
  failureText,
  filesUnder,
  inlineStack,
  JWT_PATTERN,
  keyCopies,
  OutputLog,
  readStateText,
  requirePulumi,
  stateResources,
  type StateResource,
} from "../support/engine-harness";
import { hookRuns, RotationHookStandIn } from "../support/engine-standins";
import { FakeAscApi } from "../support/fake-asc-api";
import { containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";

jest.setTimeout(180_000);

const PROBE_TYPE = "pulumi-nodejs:dynamic/asc-credential:ApiKeyProbe";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Computed here from the key, independently of the package's code. */
function fingerprintOf(key: TestKey): string {
  const der = createPublicKey(key.keyObject).export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(der).digest("hex")}`;
}

function probeIn(stateText: string): StateResource[] {
  return stateResources(stateText).filter((r) => r.type === PROBE_TYPE);
}

/** The probe's state with secret ciphertexts masked: every checkpoint write re-encrypts them with a fresh nonce. */
function comparableProbeState(stateText: string): unknown {
  return JSON.parse(JSON.stringify(probeIn(stateText)), (key, value: unknown) => (key === "ciphertext" ? "<ciphertext>" : value));
}

/** Fingerprint of the private key the stack holds as the probe's secret input (decrypted in memory only, never printed). */
async function storedKeyFingerprint(stack: Stack): Promise<string> {
  const deployment = await stack.exportStack();
  const resources = (deployment.deployment as { resources?: StateResource[] }).resources ?? [];
  const probe = resources.find((r) => r.type === PROBE_TYPE);
  // --show-secrets keeps the secret envelope and puts the JSON-encoded value in `plaintext`.
  const secret = probe?.inputs?.privateKey as { plaintext?: string } | undefined;
  const pem: unknown = typeof secret?.plaintext === "string" ? JSON.parse(secret.plaintext) : undefined;
  if (typeof pem !== "string") throw new Error("the probe has no decryptable privateKey input");
  const der = createPublicKey(createPrivateKey(pem)).export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(der).digest("hex")}`;
}

interface Credential {
  keyId: string;
  privateKey: string;
}

const keyA = generateTestKey();
const keyB = generateTestKey();
const keyC = generateTestKey();
const p384 = generateTestKey("P-384");
const allKeys = { keyA, keyB, keyC, p384 };
const KEY_ID_A = TEAM.keyId;
const KEY_ID_B = "7MN3QZ8WLP";
const KEY_ID_C = "Q4K8ZT2RVD";

let sb: EngineSandbox;
const log = new OutputLog();
/** Stacks still present at the end, for the CLI export in the scan. */
const liveStacks: { workDir: string; stack: Stack }[] = [];

beforeAll(() => {
  // Fails the tier loudly (with the fix) when the CLI or the shim is missing.
  requirePulumi();
  sb = createSandbox();
});

afterAll(() => {
  sb?.cleanup();
});

test("lifecycle: up creates the probe, a second preview is a no-op, refresh keeps it, destroy removes it", async () => {
  const workDir = sb.workDir("lifecycle");
  const stack = await inlineStack(sb, workDir, "lifecycle", "dev", async () => {
    const probe = new ApiKeyProbe("probe", { keyId: KEY_ID_A, issuerId: TEAM.issuerId, privateKey: keyA.pem });
    return { keyId: probe.keyId, fingerprint: probe.fingerprint, publicKeyPem: probe.publicKeyPem, mode: probe.mode };
  });

  const up = await stack.up(log.capture());
  expect(up.summary.result).toBe("succeeded");
  expect(up.summary.resourceChanges).toEqual({ create: 2 });
  expect(up.outputs.keyId?.value).toBe(KEY_ID_A);
  expect(up.outputs.fingerprint?.value).toBe(fingerprintOf(keyA));
  expect(up.outputs.publicKeyPem?.value).toBe(keyA.publicKeyPem);
  expect(up.outputs.mode?.value).toBe("offline");
  const created = probeIn(readStateText(sb, "lifecycle", "dev"));
  expect(created).toHaveLength(1);
  expect(created[0]!.id).toBe(KEY_ID_A);
  // The key is held once, as the secret input (ciphertext); no output carries it.
  expect((created[0]!.inputs!.privateKey as Record<string, unknown>)[SECRET_SIG]).toBeDefined();
  expect(created[0]!.outputs!.privateKey).toBeUndefined();
  expect(await keyCopies(stack, keyA)).toEqual(["probe inputs.privateKey"]);

  const preview = await stack.preview({ diff: true, ...log.capture() });
  expect(preview.changeSummary).toEqual({ same: 2 });

  const refresh = await stack.refresh(log.capture());
  expect(refresh.summary.result).toBe("succeeded");
  expect(refresh.summary.resourceChanges).toEqual({ same: 2 });
  expect(probeIn(readStateText(sb, "lifecycle", "dev"))[0]!.outputs!.fingerprint).toBe(fingerprintOf(keyA));

  const destroy = await stack.destroy(log.capture());
  expect(destroy.summary.resourceChanges).toEqual({ delete: 2 });
  expect(probeIn(readStateText(sb, "lifecycle", "dev"))).toHaveLength(0);
});

test("bad key: preview fails naming the fields and the fix, nothing is created, no key material in the output", async () => {
  const workDir = sb.workDir("badkey");
  const stack = await inlineStack(sb, workDir, "badkey", "dev", async () => {
    // A UI label instead of the Key ID, and a P-384 key instead of P-256.
    new ApiKeyProbe("probe", { keyId: "pricing-automation", issuerId: TEAM.issuerId, privateKey: p384.pem });
    return {};
  });
  liveStacks.push({ workDir, stack });

  const previewOut = log.capture();
  const previewError = await failureText(stack.preview(previewOut), log);
  const preview = `${previewError}\n${previewOut.text()}`;
  // First, so that a failing text assertion below never prints key material into the test log.
  expect(containsKeyMaterial(preview, p384)).toBe(false);
  expect(preview).toMatch(/keyId 'pricing-automation' looks like the key's name/);
  expect(preview).toMatch(/10-character Key ID/);
  expect(preview).toMatch(/privateKey is an EC key on the .*curve; App Store Connect keys use P-256/);
  expect(preview).toMatch(/AuthKey_<KEYID>\.p8 file App Store Connect let you download/);

  // `up` checks first too, so the probe never reaches create.
  const upOut = log.capture();
  const upError = await failureText(stack.up(upOut), log);
  expect(containsKeyMaterial(`${upError}\n${upOut.text()}`, p384)).toBe(false);
  expect(`${upError}\n${upOut.text()}`).toMatch(/looks like the key's name/);
  expect(probeIn(readStateText(sb, "badkey", "dev"))).toHaveLength(0);
});

test("rotation: preview shows keyId and fingerprint old -> new and the key only as [secret]; up sets previousKeyId; the onRotate STAND-IN runs once per rotation", async () => {
  // The real onRotate is a @pulumi/command local.Command, whose provider plugin cannot be obtained
  // in this tier; RotationHookStandIn has the same `triggers` behaviour (see its module).
  const workDir = sb.workDir("rotation");
  const hookLog = join(sb.root, "rotation-hook.log");
  let current: Credential = { keyId: KEY_ID_A, privateKey: keyA.pem };
  const stack = await inlineStack(sb, workDir, "rotation", "dev", async () => {
    const probe = new ApiKeyProbe("probe", { keyId: current.keyId, issuerId: TEAM.issuerId, privateKey: current.privateKey });
    new RotationHookStandIn("on-rotate", { keyId: probe.keyId, previousKeyId: probe.previousKeyId, fingerprint: probe.fingerprint, logFile: hookLog });
    return { keyId: probe.keyId, fingerprint: probe.fingerprint, previousKeyId: probe.previousKeyId, previousFingerprint: probe.previousFingerprint };
  });
  liveStacks.push({ workDir, stack });

  const first = await stack.up(log.capture());
  expect(first.summary.resourceChanges).toEqual({ create: 3 });
  expect(first.outputs.previousKeyId?.value).toBeUndefined();
  expect(hookRuns(hookLog)).toHaveLength(1);

  const noop = await stack.up(log.capture());
  expect(noop.summary.resourceChanges).toEqual({ same: 3 });
  expect(hookRuns(hookLog)).toHaveLength(1);

  current = { keyId: KEY_ID_B, privateKey: keyB.pem };
  const diffOut = log.capture();
  const preview = await stack.preview({ diff: true, ...diffOut });
  const diff = diffOut.text();
  for (const key of [keyA, keyB]) expect(containsKeyMaterial(diff, key)).toBe(false);
  expect(preview.changeSummary).toEqual({ same: 1, update: 1, replace: 1 });
  expect(diff).toMatch(new RegExp(`keyId\\s*:\\s*"${KEY_ID_A}"\\s*=>\\s*"${KEY_ID_B}"`));
  expect(diff).toMatch(new RegExp(`fingerprint\\s*:\\s*"${fingerprintOf(keyA)}"\\s*=>\\s*"${fingerprintOf(keyB)}"`));
  expect(diff).toMatch(/privateKey\s*:\s*\[secret\]/);

  const rotated = await stack.up(log.capture());
  expect(rotated.summary.resourceChanges).toEqual({ same: 1, update: 1, replace: 1 });
  expect(rotated.outputs.keyId?.value).toBe(KEY_ID_B);
  expect(rotated.outputs.fingerprint?.value).toBe(fingerprintOf(keyB));
  expect(rotated.outputs.previousKeyId?.value).toBe(KEY_ID_A);
  expect(rotated.outputs.previousFingerprint?.value).toBe(fingerprintOf(keyA));
  const runs = hookRuns(hookLog);
  expect(runs).toHaveLength(2);
  expect(runs[1]).toEqual({ keyId: KEY_ID_B, previousKeyId: KEY_ID_A, fingerprint: fingerprintOf(keyB) });

  const after = await stack.up(log.capture());
  expect(after.summary.resourceChanges).toEqual({ same: 3 });
  expect(hookRuns(hookLog)).toHaveLength(2);
});

test("half a rotation (a new key under the old Key ID, or a new Key ID for the old key) fails preview and up offline; the stored pair stays", async () => {
  const workDir = sb.workDir("half-rotation");
  let current: Credential = { keyId: KEY_ID_A, privateKey: keyA.pem };
  const stack = await inlineStack(sb, workDir, "half-rotation", "dev", async () => {
    const probe = new ApiKeyProbe("probe", { keyId: current.keyId, issuerId: TEAM.issuerId, privateKey: current.privateKey });
    return { keyId: probe.keyId, fingerprint: probe.fingerprint, previousKeyId: probe.previousKeyId };
  });
  liveStacks.push({ workDir, stack });
  await stack.up(log.capture());
  const before = comparableProbeState(readStateText(sb, "half-rotation", "dev"));

  for (const [half, expected] of [
    [{ keyId: KEY_ID_A, privateKey: keyB.pem }, new RegExp(`keyId is still ${KEY_ID_A} but privateKey is another key \\(${fingerprintOf(keyA)} => ${fingerprintOf(keyB)}\\)`)],
    [{ keyId: KEY_ID_B, privateKey: keyA.pem }, new RegExp(`privateKey is still the key of ${KEY_ID_A} \\(${fingerprintOf(keyA)}\\) but keyId changed to ${KEY_ID_B}.*AuthKey_${KEY_ID_B}\\.p8`)],
  ] as const) {
    current = half;
    for (const operation of [(o: ReturnType<OutputLog["capture"]>) => stack.preview(o), (o: ReturnType<OutputLog["capture"]>) => stack.up(o)]) {
      const out = log.capture();
      const text = `${await failureText(operation(out), log)}\n${out.text()}`;
      for (const key of [keyA, keyB]) expect(containsKeyMaterial(text, key)).toBe(false);
      expect(text).toMatch(expected);
      expect(text).toMatch(/mode: "online"/);
    }
    expect(comparableProbeState(readStateText(sb, "half-rotation", "dev"))).toEqual(before);
  }

  current = { keyId: KEY_ID_B, privateKey: keyB.pem };
  const rotated = await stack.up(log.capture());
  expect(rotated.outputs.previousKeyId?.value).toBe(KEY_ID_A);
});

describe("a new key that fails validation during up leaves the previous state untouched", () => {
  let fake: FakeAscApi;
  let stack: Stack;
  let current: Credential;
  const hookLog = () => join(sb.root, "failing-hook.log");
  const probeState = () => comparableProbeState(readStateText(sb, "failing", "dev"));

  beforeAll(async () => {
    fake = await FakeAscApi.start();
    fake.registerKey({ keyId: KEY_ID_A, issuerId: TEAM.issuerId, publicKeyPem: keyA.publicKeyPem });
    const workDir = sb.workDir("failing");
    current = { keyId: KEY_ID_A, privateKey: keyA.pem };
    stack = await inlineStack(sb, workDir, "failing", "dev", async () => {
      const probe = new ApiKeyProbe("probe", { keyId: current.keyId, issuerId: TEAM.issuerId, privateKey: current.privateKey, mode: "online", baseUrl: fake.baseUrl, timeoutMs: 5000 });
      new RotationHookStandIn("on-rotate", { keyId: probe.keyId, previousKeyId: probe.previousKeyId, fingerprint: probe.fingerprint, logFile: hookLog() });
      return { apiStatus: probe.apiStatus };
    });
    liveStacks.push({ workDir, stack });
    const up = await stack.up(log.capture());
    expect(up.outputs.apiStatus?.value).toBe(200);
  });

  afterAll(async () => {
    await fake?.stop();
  });

  test("rejected by the API in update (online mode, key unknown to the fake API)", async () => {
    const before = probeState();
    expect(before).toHaveLength(1);
    expect(await storedKeyFingerprint(stack)).toBe(fingerprintOf(keyA));
    current = { keyId: KEY_ID_C, privateKey: keyC.pem };
    const out = log.capture();
    const error = await failureText(stack.up(out), log);
    const text = `${error}\n${out.text()}`;
    for (const key of [keyA, keyC]) expect(containsKeyMaterial(text, key)).toBe(false);
    expect(text).not.toMatch(JWT_PATTERN);
    expect(text).toMatch(/401|not authori[sz]ed|unauthori[sz]ed/i);
    expect(probeState()).toEqual(before);
    expect(await storedKeyFingerprint(stack)).toBe(fingerprintOf(keyA));
    expect(hookRuns(hookLog())).toHaveLength(1);
  });

  test("malformed at check during up (a corrupted copy of the new key)", async () => {
    const before = probeState();
    // A truncated copy: the usual result of a bad paste into a CI secret.
    current = { keyId: KEY_ID_C, privateKey: keyC.pem.slice(0, 120) + "\n-----END PRIVATE KEY-----\n" };
    const out = log.capture();
    const error = await failureText(stack.up(out), log);
    expect(containsKeyMaterial(`${error}\n${out.text()}`, keyC)).toBe(false);
    expect(`${error}\n${out.text()}`).toMatch(/privateKey/);
    expect(probeState()).toEqual(before);
    expect(await storedKeyFingerprint(stack)).toBe(fingerprintOf(keyA));
    expect(hookRuns(hookLog())).toHaveLength(1);
  });
});

test("state scan: state files, history, CLI export (no --show-secrets) and all captured output hold no key material and no JWT", () => {
  const texts: { where: string; text: string }[] = [];
  for (const file of filesUnder(sb.backendDir)) texts.push({ where: file.path, text: file.text });
  for (const dir of readdirSync(sb.root, { withFileTypes: true })) {
    if (!dir.isDirectory() || ["backend", "pulumi-home", "package", "node_modules"].includes(dir.name)) continue;
    for (const name of readdirSync(join(sb.root, dir.name)).filter((n) => n.startsWith("Pulumi."))) {
      texts.push({ where: `${dir.name}/${name}`, text: readFileSync(join(sb.root, dir.name, name), "utf8") });
    }
  }
  for (const { workDir, stack } of liveStacks) {
    const exported = cliStackExport(sb, workDir, stack.name);
    log.add(exported);
    texts.push({ where: `pulumi stack export (${workDir})`, text: exported });
  }
  texts.push({ where: "captured stdout/stderr", text: log.text() });

  // Not vacuous: the scanned text is the real state, with the probes and their encrypted keys.
  const all = texts.map((t) => t.text).join("\n");
  expect(all).toContain(PROBE_TYPE);
  expect(all).toContain(fingerprintOf(keyB));
  expect(all).toContain(SECRET_SIG);
  expect(texts.filter((t) => t.where.includes("stack export"))).toHaveLength(liveStacks.length);
  expect(log.text()).toContain("Resources:");
  // And the detector does see each key's material where it is.
  for (const key of Object.values(allKeys)) expect(containsKeyMaterial(key.pem, key)).toBe(true);

  const leaks: string[] = [];
  for (const { where, text } of texts) {
    for (const [name, key] of Object.entries(allKeys)) if (containsKeyMaterial(text, key)) leaks.push(`${name} in ${where}`);
    if (JWT_PATTERN.test(text)) leaks.push(`a JWT in ${where}`);
  }
  expect(leaks).toEqual([]);
});
