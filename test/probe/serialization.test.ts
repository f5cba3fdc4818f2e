/**
 * The ApiKeyProbe provider survives Pulumi's serialization: the `__provider` text captured under
 * `pulumi.runtime.setMocks` holds no key material and no path of this checkout, reaches the
 * package only by name, and works when loaded back in a fresh Node process whose cwd is a
 * consumer project that installed the packed tarball — the way the dynamic provider host
 * (`@pulumi/pulumi/cmd/dynamic-provider`) loads it.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceProvider } from "@pulumi/pulumi/dynamic";
import { ApiKeyProbe } from "../../src/probe/api-key-probe";
import { runSync } from "../support/child";
import { packedConsumer, PREVIOUS_RELEASE_TARBALL, REPO_ROOT } from "../support/consumer-project";
import { containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";

// The serialized delegate is only a pointer to the implementation, so it stays tiny.
const MAX_PROVIDER_BYTES = 4 * 1024;

/** Only these modules may be required by the serialized provider. */
function requiredModules(text: string): string[] {
  return [...new Set([...text.matchAll(/require\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]!))];
}

/** Registers one probe under mocks and returns the inputs the engine would receive. */
async function registerUnderMocks(name: string, key: TestKey): Promise<{ inputs: Record<string, unknown>; probe: ApiKeyProbe }> {
  let inputs: Record<string, unknown> = {};
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        inputs = args.inputs as Record<string, unknown>;
        return { id: "probe-id", state: args.inputs };
      },
      call: () => ({}),
    },
    "project",
    "stack",
    false,
  );
  const probe = new ApiKeyProbe(name, { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem });
  await new Promise<void>((resolve) => probe.urn.apply(() => resolve()));
  return { inputs, probe };
}

function expectSafeProviderText(text: string, keys: TestKey[]): void {
  expect(text).toMatch(/^exports\.handler = /);
  expect(requiredModules(text)).toEqual(["pulumi-asc-credential/probe-provider"]);
  // Nothing reaches back into a checkout or an install location.
  expect(text).not.toContain(REPO_ROOT);
  expect(text).not.toMatch(/\/(src|dist)\/(core|probe|runtime)/);
  expect(text).not.toContain("node_modules");
  expect(text.length).toBeLessThan(MAX_PROVIDER_BYTES);
  for (const key of keys) expect(containsKeyMaterial(text, key)).toBe(false);
}

describe("serialized provider, captured in this process", () => {
  let captured: Record<string, unknown> = {};
  let key: TestKey;
  let secretOutputs: string[] | undefined;

  beforeAll(async () => {
    key = generateTestKey();
    const { inputs, probe } = await registerUnderMocks("probe", key);
    captured = inputs;
    secretOutputs = (await pulumi.isSecret((probe as unknown as { privateKey: pulumi.Output<string> }).privateKey)) ? ["privateKey"] : [];
  });

  it("is a small string that requires only the package's probe-provider entry and holds no key", () => {
    const text = captured.__provider;
    expect(typeof text).toBe("string");
    expectSafeProviderText(text as string, [key]);
    // Reported in the summary: the serialized size.
    process.stdout.write(`serialized ApiKeyProbe provider (ts-jest source): ${(text as string).length} bytes\n`);
  });

  it("has no read or delete, so refresh and destroy run the engine's defaults without loading the package (it may be uninstalled)", async () => {
    const requested: string[] = [];
    const uninstalled = (name: string): never => {
      requested.push(name);
      throw new Error(`Cannot find module '${name}'`);
    };
    const loaded: { handler?: () => ResourceProvider } = {};
    // Sloppy-mode evaluation, as require-from-string does: the serialized text uses `with`.
    new Function("exports", "require", captured.__provider as string)(loaded, uninstalled);
    const provider = loaded.handler!();
    const props = { keyId: TEAM.keyId, fingerprint: `sha256:${"0".repeat(64)}` };
    // Absent, the dynamic-provider host returns the state as it is on read and does nothing on
    // delete: what provider.ts's own read and delete do.
    expect(provider.read).toBeUndefined();
    expect(provider.delete).toBeUndefined();
    expect(Object.keys(provider).sort()).toEqual(["check", "create", "diff", "update"]);
    expect(requested).toEqual([]);
    // The harness really stands for a missing package: everything else needs it.
    await expect(Promise.resolve().then(() => provider.check!({}, props))).rejects.toThrow(/Cannot find module/);
    expect(requested).toEqual(["pulumi-asc-credential/probe-provider"]);
  });

  it("keeps a privateKey output secret, for the outputs 0.1.0 wrote (no output of its own holds the key)", () => {
    expect(secretOutputs).toEqual(["privateKey"]);
  });
});

describe("serialized provider, loaded back in a consumer project", () => {
  let consumer: string;
  let key: TestKey;
  let nextKey: TestKey;
  let work: string;

  beforeAll(async () => {
    key = generateTestKey();
    nextKey = generateTestKey();
    ({ dir: consumer } = packedConsumer("pulumi"));
    work = mkdtempSync(join(tmpdir(), "asc-credential-serialized-"));
  }, 600_000);

  function node(script: string, args: string[], env: Record<string, string> = {}): { stdout: string; stderr: string; status: number | null } {
    const file = join(work, `${Math.random().toString(36).slice(2)}.js`);
    writeFileSync(file, script);
    const result = runSync(process.execPath, [file, ...args], { cwd: consumer, timeoutMs: 120_000, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env } });
    return { stdout: result.stdout, stderr: result.stderr, status: result.code };
  }

  // Scripts live outside the consumer (which is shared), so they resolve modules from the cwd.
  // Captures __provider from the installed package (its built code), under mocks.
  const CAPTURE = `
const req = require("module").createRequire(process.cwd() + "/");
const pulumi = req("@pulumi/pulumi");
let provider;
pulumi.runtime.setMocks({
  newResource: (args) => { if (args.type.endsWith(":ApiKeyProbe")) provider = { type: args.type, text: args.inputs.__provider }; return { id: "id", state: args.inputs }; },
  call: () => ({}),
}, "project", "stack", false).then(() => {
  const { ApiKeyProbe } = req("pulumi-asc-credential");
  const probe = new ApiKeyProbe("probe", { keyId: "${TEAM.keyId}", issuerId: "${TEAM.issuerId}", privateKey: process.env.ASC_TEST_KEY });
  probe.urn.apply(() => { process.stdout.write(JSON.stringify(provider)); });
});
`;

  // Loads the text as cmd/dynamic-provider does (require-from-string, module paths from the cwd)
  // and drives the provider; prints facts, never the key.
  const LOAD = `
const fs = require("fs");
const req = require("module").createRequire(process.cwd() + "/");
const requireFromString = req(req.resolve("require-from-string", { paths: [req.resolve("@pulumi/pulumi")] }));
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
(async () => {
  const provider = requireFromString(fs.readFileSync(process.argv[2], "utf8")).handler();
  const base = { keyId: "${TEAM.keyId}", issuerId: "${TEAM.issuerId}", privateKey: process.env.ASC_TEST_KEY.replace(/\\n/g, "\\\\n") };
  const good = await provider.check({}, base);
  const bad = await provider.check({}, { ...base, keyId: "my-key", privateKey: process.env.ASC_TEST_KEY.slice(0, 100) });
  const unknown = await provider.check({}, { ...base, privateKey: UNKNOWN });
  const created = await provider.create(good.inputs);
  const next = await provider.check({}, { ...base, keyId: "ABCDEFGHIJ", privateKey: process.env.ASC_NEXT_KEY });
  const diff = await provider.diff(created.id, created.outs, next.inputs);
  const updated = await provider.update(created.id, created.outs, next.inputs);
  const failure = await provider.create({ ...good.inputs, issuerId: undefined }).then(() => "no error", (e) => e.message);
  const { privateKey: createdKey, ...createdPublic } = created.outs;
  const { privateKey: updatedKey, ...updatedPublic } = updated.outs;
  const normalisedNext = next.failures.length === 0 && next.inputs.privateKey === process.env.ASC_NEXT_KEY;
  process.stdout.write(JSON.stringify({
    goodFailures: good.failures, normalised: good.inputs.privateKey === process.env.ASC_TEST_KEY,
    badFailures: bad.failures.map((f) => f.property || f.reason.split(" ")[0]), badProperties: bad.failures.map((f) => f.property), badReasons: bad.failures.map((f) => f.reason).join(" "),
    unknownFailures: unknown.failures, unknownFingerprint: unknown.inputs.fingerprint,
    id: created.id, created: createdPublic, createdHoldsKey: createdKey !== undefined,
    diff, updated: updatedPublic, updatedHoldsKey: updatedKey !== undefined, normalisedNext, failure,
  }));
})().catch((e) => { process.stderr.write("FAILED " + e.message); process.exit(1); });
`;

  function expectLoadsAndWorks(providerText: string): void {
    const file = join(work, "provider.js");
    writeFileSync(file, providerText);
    const env = { ASC_TEST_KEY: key.pem, ASC_NEXT_KEY: nextKey.pem };
    const { stdout, stderr, status } = node(LOAD, [file], env);
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      goodFailures: [],
      normalised: true,
      badFailures: expect.arrayContaining(["keyId", "privateKey"]),
      // The engine prints a named property's raw value: the key's failure names none.
      badProperties: expect.arrayContaining(["keyId", ""]),
      unknownFailures: [],
      unknownFingerprint: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
      id: TEAM.keyId,
      created: { keyId: TEAM.keyId, issuerId: TEAM.issuerId, keyType: "team", mode: "offline", fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
      createdHoldsKey: false,
      diff: { changes: true, replaces: [] },
      updated: { keyId: "ABCDEFGHIJ", previousKeyId: TEAM.keyId, previousFingerprint: (out.created as { fingerprint: string }).fingerprint },
      updatedHoldsKey: false,
      normalisedNext: true,
      failure: expect.stringMatching(/issuerId is missing/),
    });
    for (const k of [key, nextKey]) {
      expect(containsKeyMaterial(JSON.stringify(out, (name, v: unknown) => (name === "publicKeyPem" ? undefined : v)), k)).toBe(false);
      expect(containsKeyMaterial(stderr, k)).toBe(false);
    }
  }

  it("captured from the installed package, the text is safe and runs in a fresh process", () => {
    const { stdout, stderr, status } = node(CAPTURE, [], { ASC_TEST_KEY: key.pem });
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    const captured = JSON.parse(stdout) as { type: string; text: string };
    expect(captured.type).toBe("pulumi-nodejs:dynamic/asc-credential:ApiKeyProbe");
    expectSafeProviderText(captured.text, [key]);
    expect(captured.text).not.toContain(consumer);
    process.stdout.write(`serialized ApiKeyProbe provider (packed dist): ${captured.text.length} bytes\n`);
    expectLoadsAndWorks(captured.text);
  });

  it("captured from this checkout's source, the text also runs in the consumer", async () => {
    const { inputs } = await registerUnderMocks("again", key);
    expectLoadsAndWorks(inputs.__provider as string);
  });

  it("the text 0.1.0 wrote into stacks (from its packed tarball) runs against this version", () => {
    const old = mkdtempSync(join(tmpdir(), "asc-credential-0.1.0-"));
    expect(runSync("tar", ["-xzf", PREVIOUS_RELEASE_TARBALL, "-C", old]).code).toBe(0);
    // 0.1.0's serialized text, as its own probe captured it (its dist is CommonJS).
    const capture = CAPTURE.replace('req("pulumi-asc-credential")', `req(${JSON.stringify(join(old, "package", "dist", "index.js"))})`);
    // Its dependencies (@pulumi/pulumi, jose) resolve to the consumer's, as in an install.
    const { stdout, stderr, status } = node(capture, [], { ASC_TEST_KEY: key.pem, NODE_PATH: join(consumer, "node_modules") });
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    const captured = JSON.parse(stdout) as { type: string; text: string };
    expect(captured.type).toBe("pulumi-nodejs:dynamic/asc-credential:ApiKeyProbe");
    expectSafeProviderText(captured.text, [key]);
    expectLoadsAndWorks(captured.text);
  });
});
