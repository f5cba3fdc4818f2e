/**
 * The built `asc-credential` CLI, run as a child process against key files generated in a temp
 * dir: every command, exit codes 0/1/2, the doctor --json schema, key ID inference, and that no
 * output carries key material (`token` prints a JWT by design, which holds none).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePrivateKey } from "../../src/core/private-key";
import { run } from "../support/child";
import { FakeAscApi } from "../support/fake-asc-api";
import { containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";
import { decodeJwt, signedBy } from "../runtime/helpers";
import { CLI, ensureBuilt, runCli, type CliResult } from "./built-cli";

jest.setTimeout(60_000);

let dir: string;
let key: TestKey;
let keyFile: string;
let fingerprint: string;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), "asc-cli-"));
  key = generateTestKey();
  fingerprint = parsePrivateKey(key.pem).fingerprint;
  keyFile = join(dir, `AuthKey_${TEAM.keyId}.p8`);
  writeFileSync(keyFile, key.pem, { mode: 0o600 });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectClean(result: CliResult, ...keys: TestKey[]): void {
  for (const k of [key, ...keys]) {
    expect(containsKeyMaterial(result.stdout, k)).toBe(false);
    expect(containsKeyMaterial(result.stderr, k)).toBe(false);
  }
}

const team = ["--issuer-id", TEAM.issuerId];
const ESC = "\x1b";
// Shaped like an App Store Connect token signature: a long base64url run.
const TOKEN_LIKE = "Xk3bQ9pZr7LmNwV2cT8yH1aE5uS0dF4gJ6kO3iP9qR2sW7xY1zB4nM8vC5eA0lK6jH3gF2dS9aQ7wE1rT4yU8i";

/** DoctorReport.credential's fields (src/cli/doctor.ts), sorted. */
const CREDENTIAL_KEYS = ["fingerprint", "issuerId", "keyId", "keyIdSource", "keySource", "keySourceName", "keyType"];

/** DoctorCheck field types: code and fix are null exactly when the schema says so. */
function expectCheckTypes(check: { id: unknown; status: unknown; code: unknown; message: unknown; fix: unknown }): void {
  expect(typeof check.id).toBe("string");
  expect(["pass", "warn", "fail", "skip"]).toContain(check.status);
  expect(typeof check.message).toBe("string");
  if (check.status === "fail") {
    expect(typeof check.code).toBe("string");
    expect(typeof check.fix).toBe("string");
  }
  if (check.status === "warn") expect(typeof check.fix).toBe("string");
  if (check.status === "pass" || check.status === "skip") {
    expect(check.code).toBeNull();
    expect(check.fix).toBeNull();
  }
}

/** Runs the built CLI on a pseudo-terminal (util-linux `script`), as a user's shell does. */
async function runCliOnTty(args: string[], env: Record<string, string>): Promise<CliResult> {
  const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, CLI, ...args].map(quote).join(" ");
  const result = await run("script", ["-qec", command, "/dev/null"], { env: { PATH: process.env.PATH ?? "", ...env }, timeoutMs: 30_000 });
  if (result.startError === "ENOENT") throw new Error("the colour test needs util-linux `script` on PATH (apt-get install bsdutils) to give the CLI a terminal");
  return { code: result.code, stdout: result.stdout.replace(/\r\n/g, "\n"), stderr: result.stderr };
}

test("the built CLI starts with a node shebang", () => {
  expect(readFileSync(CLI, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
});

describe("doctor", () => {
  test("all checks pass: exit 0, one line per check, key ID from the file name, no colour off a TTY", async () => {
    const result = await runCli(["doctor", "--key", keyFile, ...team]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines.map((line) => line.split(/\s+/).slice(0, 2).join(" "))).toEqual([
      "PASS key-source",
      "PASS key-permissions",
      "PASS private-key",
      "PASS key-id",
      "PASS issuer-id",
      "PASS signing",
      "SKIP api",
      "all checks",
    ]);
    expect(result.stdout).toContain(`${TEAM.keyId} (from the file name)`);
    expect(result.stdout).toContain(fingerprint);
    expect(result.stdout).not.toContain("\x1b[");
    expect(result.stderr).toBe("");
    expectClean(result);
  });

  test("--json follows the documented schema", async () => {
    const result = await runCli(["doctor", "--key", keyFile, ...team, "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual(["schemaVersion", "ok", "credential", "online", "checks"]);
    expect(report).toMatchObject({
      schemaVersion: 1,
      ok: true,
      credential: { keySource: "file", keySourceName: keyFile, keyId: TEAM.keyId, keyIdSource: "filename", issuerId: TEAM.issuerId, keyType: "team", fingerprint },
      online: null,
    });
    expect(Object.keys(report.credential).sort()).toEqual(CREDENTIAL_KEYS);
    expect(report.checks.map((c: { id: string }) => c.id)).toEqual(["key-source", "key-permissions", "private-key", "key-id", "issuer-id", "signing", "api"]);
    for (const check of report.checks) {
      expect(Object.keys(check)).toEqual(["id", "status", "code", "message", "fix"]);
      expect(["pass", "skip"]).toContain(check.status);
      expectCheckTypes(check);
    }
    expectClean(result);
  });

  test("--json of a failing run keeps the same key sets, with code and fix set on failures", async () => {
    const result = await runCli(["doctor", "--key", keyFile, "--json"]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual(["schemaVersion", "ok", "credential", "online", "checks"]);
    expect(Object.keys(report.credential).sort()).toEqual(CREDENTIAL_KEYS);
    expect(report.credential.issuerId).toBeNull();
    for (const check of report.checks) {
      expect(Object.keys(check)).toEqual(["id", "status", "code", "message", "fix"]);
      expectCheckTypes(check);
    }
    expectClean(result);
  });

  test("on a terminal the statuses are coloured; NO_COLOR and TERM=dumb turn colour off", async () => {
    const args = ["doctor", "--key", keyFile, ...team];
    const tty = await runCliOnTty(args, { TERM: "xterm" });
    expect(tty.code).toBe(0);
    const lines = tty.stdout.split("\n");
    expect(lines[0]).toMatch(new RegExp(`^${ESC}\\[32mPASS${ESC}\\[0m {2}key-source `));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${ESC}\\[2mSKIP${ESC}\\[0m {2}api `)));
    expect(tty.stdout).toContain(`${ESC}[32mall checks passed${ESC}[0m`);
    expectClean(tty);
    const plainEnvs: Record<string, string>[] = [{ TERM: "xterm", NO_COLOR: "1" }, { TERM: "dumb" }];
    for (const env of plainEnvs) {
      const plain = await runCliOnTty(args, env);
      expect(plain.code).toBe(0);
      expect(plain.stdout).toMatch(/^PASS {2}key-source /m);
      expect(plain.stdout).not.toContain("\x1b[");
    }
    // --json never carries colour codes, even on a terminal.
    const json = await runCliOnTty([...args, "--json"], { TERM: "xterm" });
    expect(json.stdout).not.toContain("\x1b[");
    expect(JSON.parse(json.stdout).ok).toBe(true);
  });

  test("a missing issuer ID fails with exit 1, the code and the fix", async () => {
    const human = await runCli(["doctor", "--key", keyFile]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^FAIL\s+issuer-id\s+.*\n\s+fix: pass --issuer-id/m);
    expect(human.stdout).toMatch(/^SKIP\s+signing/m);
    const json = JSON.parse((await runCli(["doctor", "--key", keyFile, "--json"])).stdout);
    expect(json.ok).toBe(false);
    expect(json.checks.find((c: { id: string }) => c.id === "issuer-id")).toMatchObject({ status: "fail", code: "ISSUER_ID_MISSING", fix: expect.stringContaining("--issuer-id") });
  });

  test("a wrong-curve key given through --key-env with literal \\n fails without echoing it", async () => {
    const wrong = generateTestKey("P-384");
    const result = await runCli(["doctor", "--key-env", "MY_KEY", "--key-id", TEAM.keyId, ...team, "--json"], { MY_KEY: wrong.pem.replace(/\n/g, "\\n") });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.credential).toMatchObject({ keySource: "env", keySourceName: "MY_KEY", keyIdSource: "flag", fingerprint: null });
    expect(report.checks.find((c: { id: string }) => c.id === "private-key")).toMatchObject({ status: "fail", code: "KEY_WRONG_CURVE" });
    expect(report.checks.map((c: { id: string }) => c.id)).not.toContain("key-permissions");
    expectClean(result, wrong);
  });

  test("a group/world-readable key file is a warning with the chmod fix, not a failure", async () => {
    const open = join(dir, "AuthKey_OPENFILE01.p8");
    writeFileSync(open, key.pem);
    chmodSync(open, 0o644);
    const result = await runCli(["doctor", "--key", open, ...team]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^WARN\s+key-permissions\s+.*mode 644\)\n\s+fix: chmod 600 /m);
    expect(result.stdout).toContain("1 warning");
  });

  test("a key ID contradicting the file name, and an unnamed file without --key-id, fail", async () => {
    const mismatch = JSON.parse((await runCli(["doctor", "--key", keyFile, "--key-id", "ABCDE12345", ...team, "--json"])).stdout);
    expect(mismatch.checks.find((c: { id: string }) => c.id === "key-id")).toMatchObject({ status: "fail", code: "KEY_ID_FILENAME_MISMATCH" });
    const plain = join(dir, "key.pem");
    writeFileSync(plain, key.pem, { mode: 0o600 });
    const unnamed = await runCli(["doctor", "--key", plain, ...team, "--json"]);
    expect(unnamed.code).toBe(1);
    expect(JSON.parse(unnamed.stdout).checks.find((c: { id: string }) => c.id === "key-id")).toMatchObject({ status: "fail", code: "KEY_ID_INVALID" });
  });

  test("a missing key file is a failed check naming the path", async () => {
    const result = await runCli(["doctor", "--key", join(dir, "AuthKey_MISSING000.p8"), ...team]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL\s+key-source\s+--key '.*AuthKey_MISSING000\.p8' does not exist/m);
  });

  test("falls back to the APP_STORE_CONNECT_* variables", async () => {
    const result = await runCli(["doctor", "--json"], { APP_STORE_CONNECT_PRIVATE_KEY_PATH: keyFile, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).credential).toMatchObject({ keySource: "file", keyId: TEAM.keyId, keyIdSource: "filename", issuerId: TEAM.issuerId });
  });

  describe("--online against the fake App Store Connect API", () => {
    let api: FakeAscApi;
    beforeEach(async () => {
      api = await FakeAscApi.start();
    });
    afterEach(async () => api.stop());

    test("a registered key passes the api and clock checks", async () => {
      api.registerKey({ keyId: TEAM.keyId, publicKeyPem: key.publicKeyPem, issuerId: TEAM.issuerId });
      const result = await runCli(["doctor", "--key", keyFile, ...team, "--online", "--base-url", api.baseUrl, "--json"]);
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report.online).toMatchObject({ baseUrl: api.baseUrl, apiStatus: 200 });
      expect(report.checks.slice(-2).map((c: { id: string; status: string }) => [c.id, c.status])).toEqual([
        ["api", "pass"],
        ["clock", "pass"],
      ]);
      expect(api.requests.map((r) => [r.path, r.kid])).toEqual([["/v1/apps?limit=1", TEAM.keyId]]);
      expect(Object.keys(report.online).sort()).toEqual(["apiStatus", "baseUrl", "clockSkewSeconds"]);
      expect(typeof report.online.clockSkewSeconds).toBe("number");
      expect(Object.keys(report.credential).sort()).toEqual(CREDENTIAL_KEYS);
      for (const check of report.checks) {
        expect(Object.keys(check)).toEqual(["id", "status", "code", "message", "fix"]);
        expectCheckTypes(check);
      }
    });

    test.each([
      ["a password in --base-url", (base: string) => base.replace("http://", "http://ci-user:Sup3rS3cretPassw0rd@"), "Sup3rS3cretPassw0rd"],
      ["a token pasted into its path", (base: string) => `${base}/${TOKEN_LIKE}`, TOKEN_LIKE.slice(0, 20)],
    ])("%s is not repeated in the report, text or --json", async (_label, url, secret) => {
      api.registerKey({ keyId: TEAM.keyId, publicKeyPem: key.publicKeyPem, issuerId: TEAM.issuerId });
      for (const json of [[], ["--json"]]) {
        const result = await runCli(["doctor", "--key", keyFile, ...team, "--online", "--base-url", url(api.baseUrl), ...json]);
        expect(result.stdout.length).toBeGreaterThan(50);
        expect(result.stdout + result.stderr).not.toContain(secret);
      }
    });

    test("an unknown key fails with API_UNAUTHORIZED and exit 1", async () => {
      const result = await runCli(["doctor", "--key", keyFile, ...team, "--online", "--base-url", api.baseUrl]);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^FAIL\s+api\s+App Store Connect rejected the key \(HTTP 401\)/m);
      expectClean(result);
    });
  });
});

describe("usage errors exit 2", () => {
  test.each([
    [[]],
    [["frobnicate"]],
    [["doctor", "--bogus"]],
    [["doctor", "--key", "a.p8", "--key-env", "X"]],
    [["token", "--key", "a.p8", "--lifetime", "ten"]],
    [["config"]],
    [["config", "--key", "-"]],
    [["doctor", "--key", "a.p8", "--base-url", "ftp://x"]],
    // Inherited Object.prototype names are not commands.
    [["toString"]],
    [["constructor", "--key", "a.p8"]],
    [["__proto__"]],
    [["hasOwnProperty"]],
  ])("%j", async (args) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Usage: asc-credential");
    expect(result.stdout).toBe("");
  });

  test("an inherited name such as toString is an unknown command, not a crash", async () => {
    const result = await runCli(["toString"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^asc-credential: unknown command 'toString'\n\nUsage: asc-credential/);
    expect(result.stderr).not.toContain("unexpected");
  });

  test("a key pasted as an argument is not echoed back", async () => {
    const pasted = Buffer.from(key.pem).toString("base64");
    const result = await runCli(["token", pasted]);
    expect(result.code).toBe(2);
    expectClean(result);
  });

  test("--help exits 0", async () => {
    const result = await runCli(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("doctor");
  });
});

describe("token", () => {
  test("prints one verifiable JWT with the inferred key ID, lifetime and scope", async () => {
    const result = await runCli(["token", "--key", keyFile, ...team, "--lifetime", "300", "--scope", "GET /v1/apps", "--scope", "GET /v1/builds"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const jwt = result.stdout.trim();
    const { header, payload } = decodeJwt(jwt);
    expect(header.kid).toBe(TEAM.keyId);
    expect(payload.iss).toBe(TEAM.issuerId);
    expect(payload.exp - payload.iat).toBe(300);
    expect(payload.scope).toEqual(["GET /v1/apps", "GET /v1/builds"]);
    expect(signedBy(jwt, key)).toBe(true);
    expectClean(result);
  });

  test("an individual key gets sub user", async () => {
    const result = await runCli(["token", "--key", keyFile, "--individual"]);
    expect(result.code).toBe(0);
    expect(decodeJwt(result.stdout.trim()).payload).toMatchObject({ sub: "user" });
  });

  test.each([
    ["token", (file: string) => ["token", "--key", file, ...team]],
    ["export --format env", (file: string) => ["export", "--format", "env", "--key", file, ...team, "--out", join(dir, "exported-to-full")]],
  ])("%s whose output cannot be written (a full disk) exits 1 saying so, never 0 with nothing printed", async (_name, args) => {
    const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;
    const result = await run("sh", ["-c", `${[process.execPath, CLI, ...args(keyFile)].map(quote).join(" ")} > /dev/full`], { env: { PATH: process.env.PATH ?? "" }, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^asc-credential: the output could not be written \(ENOSPC\)/m);
    expectClean({ code: result.code, stdout: result.stdout, stderr: result.stderr });
  });

  test("a lifetime over 20 minutes fails with exit 1 and the code", async () => {
    const result = await runCli(["token", "--key", keyFile, ...team, "--lifetime", "1500"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^asc-credential: TOKEN_LIFETIME_INVALID: /);
    expect(result.stdout).toBe("");
  });
});

describe("fingerprint", () => {
  test("prints the fingerprint, the same for every accepted form of the key", async () => {
    const fromFile = await runCli(["fingerprint", "--key", keyFile]);
    const fromEnv = await runCli(["fingerprint", "--key-env", "K"], { K: Buffer.from(key.pem).toString("base64") });
    expect([fromFile.code, fromEnv.code]).toEqual([0, 0]);
    expect(fromFile.stdout).toBe(`${fingerprint}\n`);
    expect(fromEnv.stdout).toBe(`${fingerprint}\n`);
    expectClean(fromFile);
    expectClean(fromEnv);
  });

  test("a public key instead of the private key fails with exit 1, the message naming the line to look for", async () => {
    const result = await runCli(["fingerprint", "--key-env", "K"], { K: key.publicKeyPem });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("KEY_IS_PUBLIC");
    expect(result.stderr).toContain("its first line reads BEGIN PRIVATE KEY");
    expect(result.stderr).not.toContain("removed]");
  });

  test("a file far larger than any key: its size said truly (more than the bound read), not the bytes read", async () => {
    const huge = join(dir, "huge.bin");
    writeFileSync(huge, Buffer.alloc(1024 * 1024, 0x41), { mode: 0o600 });
    const result = await runCli(["fingerprint", "--key", huge]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^asc-credential: KEY_MALFORMED: --key '.*huge\.bin': privateKey is more than 65536 bytes long/);
  });
});

describe("config", () => {
  test("prints pulumi config set commands that read the key from the file, never the key", async () => {
    const result = await runCli(["config", "--key", keyFile, ...team, "--stack", "dev"]);
    expect(result.code).toBe(0);
    const commands = result.stdout.split("\n").filter((line) => line.startsWith("pulumi "));
    expect(commands).toEqual([
      `pulumi config set --stack dev keyId ${TEAM.keyId}`,
      `pulumi config set --stack dev issuerId ${TEAM.issuerId}`,
      `pulumi config set --stack dev --secret privateKey < ${keyFile}`,
    ]);
    expectClean(result);
  });

  test("--help offers only the key sources config takes, and each one it offers works", async () => {
    const help = await runCli(["config", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).not.toMatch(/--secret-id|--vault-path|"-" reads stdin|\(none\)/);
    for (const refused of [["--key", "-"], ["--secret-id", "app-store-connect/ci"], ["--vault-path", "app-store-connect/ci"], []]) {
      expect((await runCli(["config", ...refused, ...team], {}, { input: key.pem })).code).toBe(2);
    }
    expect((await runCli(["config", "--key", keyFile, ...team])).code).toBe(0);
    expect((await runCli(["config", "--key-env", "ASC_KEY", "--key-id", TEAM.keyId, ...team], { ASC_KEY: key.pem })).code).toBe(0);
  });

  test("an individual key gets keyType and no issuer; an invalid key prints no commands", async () => {
    const individual = await runCli(["config", "--key", keyFile, "--individual"]);
    expect(individual.stdout).toContain("pulumi config set keyType individual");
    expect(individual.stdout).not.toContain("issuerId");
    const bad = join(dir, "AuthKey_BADKEY0000.p8");
    writeFileSync(bad, "not a key");
    const result = await runCli(["config", "--key", bad, ...team]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("KEY_MALFORMED");
  });

  describe("--apply", () => {
    let bin: string;
    let log: string;
    beforeAll(() => {
      bin = mkdtempSync(join(dir, "bin-"));
      log = join(bin, "calls.log");
      // A stand-in `pulumi` recording argv and stdin, one record per call.
      writeFileSync(
        join(bin, "pulumi"),
        `#!/bin/sh\nprintf 'ARGS %s\\n' "$*" >> "${log}"\nif [ "$5" = "--secret" ] || [ "$3" = "--secret" ]; then printf 'STDIN ' >> "${log}"; base64 -w0 >> "${log}"; printf '\\n' >> "${log}"; fi\nexit \${FAKE_PULUMI_EXIT:-0}\n`,
        { mode: 0o755 },
    );
    });
    beforeEach(() => writeFileSync(log, ""));

    test("runs each command with the key on stdin only", async () => {
      const result = await runCli(["config", "--key", keyFile, ...team, "--apply"], { PATH: `${bin}:${process.env.PATH}` });
      expect(result.code).toBe(0);
      const records = readFileSync(log, "utf8").trim().split("\n");
      expect(records.filter((r) => r.startsWith("ARGS "))).toEqual([
        `ARGS config set keyId ${TEAM.keyId}`,
        `ARGS config set issuerId ${TEAM.issuerId}`,
        "ARGS config set --secret privateKey",
      ]);
      const stdin = Buffer.from(records.find((r) => r.startsWith("STDIN "))!.slice(6), "base64").toString();
      expect(parsePrivateKey(stdin).fingerprint).toBe(fingerprint);
      expect(records.filter((r) => r.startsWith("ARGS ")).some((r) => containsKeyMaterial(r, key))).toBe(false);
      expect(result.stderr).toContain("ran: pulumi config set --secret privateKey < (key file)");
      expectClean(result);
    });

    test("a failing pulumi makes exit 1; no pulumi on PATH is exit 1 with the fix", async () => {
      const failing = await runCli(["config", "--key", keyFile, ...team, "--apply"], { PATH: `${bin}:${process.env.PATH}`, FAKE_PULUMI_EXIT: "3" });
      expect(failing.code).toBe(1);
      expect(failing.stderr).toContain("failed (exit 3)");
      const missing = await runCli(["config", "--key", keyFile, ...team, "--apply"], { PATH: dir });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("Install the Pulumi CLI");
    });
  });
});
