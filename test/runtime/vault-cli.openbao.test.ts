/**
 * The CLI's consumer paths for the Vault store, as a process against a real OpenBao dev server:
 * `fingerprint`, `token`, `doctor` and `export` with `--vault-path`, the previous version after a
 * rotation, the `VAULT_*` / `BAO_*` defaults, and the failures a user meets (no address, a wrong
 * token, a bad path, flags that do not go together), none echoing a token or key material.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePrivateKey } from "../../src/core";
import { buildVault, declaredOf, type Declared } from "../storage/vault/declared";
import { ensureBuilt, runCli, type CliResult } from "../cli/built-cli";
import { containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";
import { JWT_PATTERN } from "../support/leak-guard";
import { startOpenBao, type OpenBaoServer } from "../support/openbao-server";
import { decodeJwt, signedBy } from "./helpers";
import { applyDeclared, tokenWith } from "./vault-helpers";

jest.setTimeout(90_000);

let server: OpenBaoServer;
let keyA: TestKey;
let keyB: TestKey;
let declared: Declared;
let reader: string;
let dir: string;
const secrets = new Set<string>();

beforeAll(async () => {
  ensureBuilt();
  server = await startOpenBao();
  secrets.add(server.rootToken);
  keyA = generateTestKey();
  keyB = generateTestKey();
  dir = mkdtempSync(join(tmpdir(), "asc-vault-cli-"));
  declared = declaredOf((await buildVault({ privateKey: keyA.pem }, {}, "cli")).run);
  await applyDeclared(server.api, declared);
  reader = await tokenWith(server.api, [declared.policy.name]);
  secrets.add(reader);
}, 90_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function vaultEnv(token = reader): Record<string, string> {
  return { VAULT_ADDR: server.address, VAULT_TOKEN: token };
}

function expectClean(result: CliResult): void {
  for (const text of [result.stdout, result.stderr]) {
    for (const secret of secrets) expect(text.includes(secret)).toBe(false);
    expect(containsKeyMaterial(text, keyA)).toBe(false);
    expect(containsKeyMaterial(text, keyB)).toBe(false);
  }
}

describe("every command reads the Vault secret with a reader token", () => {
  test("fingerprint", async () => {
    const result = await runCli(["fingerprint", "--vault-path", declared.secret.path], vaultEnv());
    expect([result.code, result.stdout, result.stderr]).toEqual([0, `${parsePrivateKey(keyA.pem).fingerprint}\n`, ""]);
  });

  test("token: signed by the stored key, for its Key ID and Issuer ID", async () => {
    const result = await runCli(["token", "--vault-path", declared.secret.path], vaultEnv());
    expect(result.code).toBe(0);
    const token = result.stdout.trim();
    expect(signedBy(token, keyA)).toBe(true);
    const { header, payload } = decodeJwt(token);
    expect(header.kid).toBe(TEAM.keyId);
    expect(payload.iss).toBe(TEAM.issuerId);
  });

  test("doctor --json reports the vault source and passes", async () => {
    const result = await runCli(["doctor", "--vault-path", declared.secret.path, "--json"], vaultEnv());
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; credential: { keySource: string; keyId: string; fingerprint: string } };
    expect(report.ok).toBe(true);
    expect(report.credential).toMatchObject({ keySource: "vault", keyId: TEAM.keyId, fingerprint: parsePrivateKey(keyA.pem).fingerprint });
    expectClean(result);
  });

  test("export --format fastlane writes the stored key and prints only a path", async () => {
    const out = join(dir, "fastlane");
    const result = await runCli(["export", "--format", "fastlane", "--vault-path", declared.secret.path, "--out", out], { ...vaultEnv(), HOME: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${join(out, "api_key.json")}\n`);
    expect(parsePrivateKey(readFileSync(join(out, `AuthKey_${TEAM.keyId}.p8`), "utf8")).fingerprint).toBe(parsePrivateKey(keyA.pem).fingerprint);
    expectClean(result);
  });

  test("OpenBao's BAO_ADDR and BAO_TOKEN are the same defaults", async () => {
    const result = await runCli(["fingerprint", "--vault-path", declared.secret.path], { BAO_ADDR: server.address, BAO_TOKEN: reader });
    expect([result.code, result.stdout]).toEqual([0, `${parsePrivateKey(keyA.pem).fingerprint}\n`]);
  });

  test("--vault-address overrides VAULT_ADDR", async () => {
    const result = await runCli(["fingerprint", "--vault-path", declared.secret.path, "--vault-address", server.address], { VAULT_ADDR: "http://127.0.0.1:9", VAULT_TOKEN: reader });
    expect(result.code).toBe(0);
  });
});

describe("after a rotation", () => {
  beforeAll(async () => {
    // The same component with the new key writes a new KV version.
    const rotated = declaredOf((await buildVault({ privateKey: keyB.pem }, {}, "cli")).run);
    expect(rotated.secret.path).toBe(declared.secret.path);
    await applyDeclared(server.api, rotated);
  });

  test("the current version is the new key, --vault-version previous the old one", async () => {
    const current = await runCli(["fingerprint", "--vault-path", declared.secret.path], vaultEnv());
    const previous = await runCli(["fingerprint", "--vault-path", declared.secret.path, "--vault-version", "previous"], vaultEnv());
    const first = await runCli(["fingerprint", "--vault-path", declared.secret.path, "--vault-version", "1"], vaultEnv());
    expect(current.stdout).toBe(`${parsePrivateKey(keyB.pem).fingerprint}\n`);
    expect(previous.stdout).toBe(`${parsePrivateKey(keyA.pem).fingerprint}\n`);
    expect(first.stdout).toBe(previous.stdout);
  });
});

describe("failures are typed, name the field or server, and echo no token", () => {
  test("no address: VAULT_ADDRESS_INVALID naming VAULT_ADDR", async () => {
    const result = await runCli(["token", "--vault-path", declared.secret.path], { VAULT_TOKEN: reader });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/VAULT_ADDRESS_INVALID: VAULT_ADDR is not set/);
    expectClean(result);
  });

  test("a token without the reader policy: VAULT_PERMISSION_DENIED, in doctor too", async () => {
    const other = await tokenWith(server.api, ["default"]);
    secrets.add(other);
    const token = await runCli(["token", "--vault-path", declared.secret.path], vaultEnv(other));
    expect(token.code).toBe(1);
    expect(token.stderr).toMatch(/VAULT_PERMISSION_DENIED/);
    const doctor = await runCli(["doctor", "--vault-path", declared.secret.path, "--json"], vaultEnv(other));
    expect(doctor.code).toBe(1);
    expect(JSON.parse(doctor.stdout)).toMatchObject({ ok: false, credential: { keySource: "vault" } });
    expect(doctor.stdout).toMatch(/VAULT_PERMISSION_DENIED/);
    expectClean(token);
    expectClean(doctor);
  });

  test("a token pasted as the path is refused without being echoed", async () => {
    const result = await runCli(["token", "--vault-path", reader], vaultEnv());
    expect(result.code).toBe(1);
    expectClean(result);
    // "=" so the PEM's leading dashes reach the loader instead of the argument parser.
    const pem = await runCli(["token", `--vault-path=${keyA.pem}`], vaultEnv());
    expect(pem.code).toBe(1);
    expect(pem.stderr).toMatch(/VAULT_PATH_INVALID/);
    expectClean(pem);
    expect(JWT_PATTERN.test(pem.stderr)).toBe(false);
  });

  test("a path with .. or a leading /: VAULT_PATH_INVALID", async () => {
    for (const path of ["../sys/policy", "/app-store-connect/cli"]) {
      const result = await runCli(["token", "--vault-path", path], vaultEnv());
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/VAULT_PATH_INVALID/);
    }
  });

  test("a mount that is not KV v2: VAULT_MOUNT_NOT_KV2", async () => {
    const result = await runCli(["token", "--vault-path", declared.secret.path, "--vault-mount", "cubbyhole"], vaultEnv());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/VAULT_MOUNT_(NOT_KV2|INVALID)/);
    expectClean(result);
  });

  test("flags that do not go together are usage errors (exit 2)", async () => {
    const cases: string[][] = [
      ["--vault-path", declared.secret.path, "--key", "AuthKey_X.p8"],
      ["--vault-path", declared.secret.path, "--secret-id", "x"],
      ["--vault-path", declared.secret.path, "--key-id", TEAM.keyId],
      ["--vault-mount", "secret"],
      ["--vault-path", declared.secret.path, "--vault-version", "0"],
      ["--vault-path", declared.secret.path, "--vault-version", "latest"],
    ];
    for (const args of cases) {
      const result = await runCli(["fingerprint", ...args], vaultEnv());
      expect([args.join(" "), result.code]).toEqual([args.join(" "), 2]);
    }
  });
});
