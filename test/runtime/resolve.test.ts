/**
 * The one credential resolver (src/runtime/resolve.ts), which the CLI and the runtime share:
 * explicit values over the environment, every tool's variable names, codemagic's references,
 * altool's directories, and two sources that disagree refused, naming both.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePrivateKey } from "../../src/core/private-key";
import { loadResolved, resolveCredential, type CredentialRequest } from "../../src/runtime/resolve";
import { readCredential } from "../../src/runtime/sources";
import { AscTokenSource } from "../../src/runtime/token-source";
import { containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";
import { decodeJwt, signedBy } from "./helpers";

const key: TestKey = generateTestKey();
const other: TestKey = generateTestKey();
let dir: string;
let keyFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "asc-resolve-"));
  keyFile = join(dir, `AuthKey_${TEAM.keyId}.p8`);
  writeFileSync(keyFile, key.pem, { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fingerprintOf = (k: TestKey): string => parsePrivateKey(k.pem).fingerprint;

async function load(request: Partial<CredentialRequest> & { env: CredentialRequest["env"] }) {
  return loadResolved(await resolveCredential({ home: join(dir, "no-home"), cwd: join(dir, "no-cwd"), ...request }));
}

describe("each tool's variables are understood", () => {
  it.each<[string, Record<string, string>]>([
    ["this package (inline key)", { APP_STORE_CONNECT_KEY_ID: TEAM.keyId, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_PRIVATE_KEY: "PEM" }],
    ["this package (key path)", { APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_PRIVATE_KEY_PATH: "FILE" }],
    ["fastlane (path)", { APP_STORE_CONNECT_API_KEY_KEY_ID: TEAM.keyId, APP_STORE_CONNECT_API_KEY_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_API_KEY_KEY_FILEPATH: "FILE" }],
    ["fastlane (content, base64)", { APP_STORE_CONNECT_API_KEY_KEY_ID: TEAM.keyId, APP_STORE_CONNECT_API_KEY_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_API_KEY_KEY: "B64" }],
    ["codemagic (@file: reference)", { APP_STORE_CONNECT_KEY_IDENTIFIER: TEAM.keyId, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_PRIVATE_KEY: "@file:FILE" }],
    ["codemagic (@env: references)", { APP_STORE_CONNECT_KEY_IDENTIFIER: "@env:MY_KEY_ID", MY_KEY_ID: TEAM.keyId, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_PRIVATE_KEY: "@env:MY_KEY", MY_KEY: "PEM" }],
    ["EAS", { EXPO_ASC_KEY_ID: TEAM.keyId, EXPO_ASC_ISSUER_ID: TEAM.issuerId, EXPO_ASC_API_KEY_PATH: "FILE" }],
    ["the asc CLI (path)", { ASC_KEY_ID: TEAM.keyId, ASC_ISSUER_ID: TEAM.issuerId, ASC_PRIVATE_KEY_PATH: "FILE" }],
    ["the asc CLI (base64)", { ASC_KEY_ID: TEAM.keyId, ASC_ISSUER_ID: TEAM.issuerId, ASC_PRIVATE_KEY_B64: "B64" }],
  ])("%s", async (_label, template) => {
    const env = Object.fromEntries(Object.entries(template).map(([name, value]) => [name, value.replace("FILE", keyFile).replace("PEM", key.pem).replace("B64", Buffer.from(key.pem).toString("base64"))]));
    const loaded = await load({ env });
    expect(loaded).toMatchObject({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, keyType: "team", fingerprint: fingerprintOf(key) });
    // The runtime's fromEnv reads the same way.
    const token = await AscTokenSource.fromEnv(env).getToken();
    expect(decodeJwt(token).header.kid).toBe(TEAM.keyId);
    expect(signedBy(token, key)).toBe(true);
  });
});

describe("codemagic's @file: paths are expanded as codemagic expands them ($VAR, ${VAR}, a leading ~)", () => {
  it.each([
    ["~/", (name: string) => ({ HOME: dir, APP_STORE_CONNECT_PRIVATE_KEY: `@file:~/${name}` })],
    ["$VAR", (name: string) => ({ KEYS_DIR: dir, APP_STORE_CONNECT_PRIVATE_KEY: `@file:$KEYS_DIR/${name}` })],
    ["${VAR}", (name: string) => ({ KEYS_DIR: dir, APP_STORE_CONNECT_PRIVATE_KEY: `@file:\${KEYS_DIR}/${name}` })],
  ])("%s", async (_label, variables) => {
    const env = { APP_STORE_CONNECT_KEY_IDENTIFIER: TEAM.keyId, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, ...variables(`AuthKey_${TEAM.keyId}.p8`) };
    expect((await load({ env })).fingerprint).toBe(fingerprintOf(key));
  });

  it("an unset variable is left as it is (and the file is then not found)", async () => {
    const error = await load({ env: { APP_STORE_CONNECT_KEY_IDENTIFIER: TEAM.keyId, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_PRIVATE_KEY: "@file:$NOT_SET/AuthKey.p8" } }).then(() => undefined, (e: Error & { code?: string }) => e);
    expect(error).toMatchObject({ code: "SECRET_NOT_FOUND", message: expect.stringContaining("'$NOT_SET/AuthKey.p8' does not exist") });
  });
});

describe("precedence", () => {
  it("explicit values win over the environment, without counting as a disagreement", async () => {
    const loaded = await load({ key: keyFile, keyId: TEAM.keyId, issuerId: TEAM.issuerId, env: { APP_STORE_CONNECT_PRIVATE_KEY: other.pem, APP_STORE_CONNECT_KEY_ID: "AAAAAAAAAA", APP_STORE_CONNECT_ISSUER_ID: "11111111-2222-3333-4444-555555555555" } });
    expect(loaded).toMatchObject({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, fingerprint: fingerprintOf(key) });
  });

  it("empty variables count as unset (a CI job that declares a variable it does not fill)", async () => {
    const loaded = await load({ env: { APP_STORE_CONNECT_PRIVATE_KEY: "  ", APP_STORE_CONNECT_PRIVATE_KEY_PATH: keyFile, APP_STORE_CONNECT_KEY_ID: "", APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId } });
    expect(loaded.keyId).toBe(TEAM.keyId);
  });

  it("the same key given twice (inline and by path) is one source", async () => {
    const loaded = await load({ env: { APP_STORE_CONNECT_PRIVATE_KEY: key.pem.replace(/\n/g, "\\n"), ASC_PRIVATE_KEY_PATH: keyFile, APP_STORE_CONNECT_KEY_ID: TEAM.keyId, ASC_KEY_ID: TEAM.keyId, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId } });
    expect(loaded.fingerprint).toBe(fingerprintOf(key));
  });
});

describe("two sources that disagree are an error naming both, never a silent pick", () => {
  it.each<[string, Record<string, string>, RegExp]>([
    ["two Key IDs", { APP_STORE_CONNECT_KEY_ID: TEAM.keyId, ASC_KEY_ID: "7MN3QZ8WLP" }, /APP_STORE_CONNECT_KEY_ID is '2X9R4HXF34' but ASC_KEY_ID is '7MN3QZ8WLP'/],
    ["two Issuer IDs", { APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, EXPO_ASC_ISSUER_ID: "11111111-2222-3333-4444-555555555555" }, /APP_STORE_CONNECT_ISSUER_ID is '.*' but EXPO_ASC_ISSUER_ID is '11111111-2222-3333-4444-555555555555'/],
    ["two different keys", { ASC_PRIVATE_KEY: other.pem }, /^environment variable ASC_PRIVATE_KEY and APP_STORE_CONNECT_PRIVATE_KEY_PATH '.*' both give a private key, and not the same one/],
  ])("%s", async (_label, extra, message) => {
    const env = { APP_STORE_CONNECT_PRIVATE_KEY_PATH: keyFile, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, ...extra };
    const error = await load({ env }).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    expect(error).toMatchObject({ code: "SOURCE_CONFLICT", message: expect.stringMatching(message) });
    for (const k of [key, other]) expect(containsKeyMaterial(error!.message, k)).toBe(false);
  });
});

describe("altool's directories", () => {
  it("finds AuthKey_<KEYID>.p8 in ~/.appstoreconnect/private_keys, ./private_keys or API_PRIVATE_KEYS_DIR when only the Key ID is given", async () => {
    const home = join(dir, "home");
    const cwd = join(dir, "cwd");
    const own = join(dir, "own");
    for (const [where, k] of [[join(home, ".appstoreconnect", "private_keys"), key], [join(cwd, "private_keys"), key], [own, key]] as const) {
      mkdirSync(where, { recursive: true });
      writeFileSync(join(where, `AuthKey_${TEAM.keyId}.p8`), k.pem, { mode: 0o600 });
    }
    const loaded = await loadResolved(await resolveCredential({ home, cwd, env: { APP_STORE_CONNECT_KEY_ID: TEAM.keyId, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, API_PRIVATE_KEYS_DIR: own } }));
    expect(loaded.fingerprint).toBe(fingerprintOf(key));
    // Two of them holding different keys is a disagreement.
    writeFileSync(join(own, `AuthKey_${TEAM.keyId}.p8`), other.pem, { mode: 0o600 });
    const resolved = await resolveCredential({ home, cwd, env: { APP_STORE_CONNECT_KEY_ID: TEAM.keyId, API_PRIVATE_KEYS_DIR: own } });
    expect(resolved.problems[0]).toMatchObject({ code: "SOURCE_CONFLICT" });
  });

  it("nothing found: KEY_EMPTY naming the variables to set", async () => {
    const error = await load({ env: {} }).then(() => undefined, (e: Error & { code?: string }) => e);
    expect(error).toMatchObject({ code: "KEY_EMPTY", message: expect.stringMatching(/APP_STORE_CONNECT_PRIVATE_KEY.*ASC_PRIVATE_KEY_PATH/) });
  });
});

describe("the key type and bad values", () => {
  it("APP_STORE_CONNECT_KEY_TYPE=individual makes an individual key; any other value is KEY_TYPE_INVALID in the CLI and the runtime alike", async () => {
    const individual = await load({ env: { APP_STORE_CONNECT_PRIVATE_KEY_PATH: keyFile, APP_STORE_CONNECT_KEY_TYPE: "individual" } });
    expect(individual.keyType).toBe("individual");
    const error = await load({ env: { APP_STORE_CONNECT_PRIVATE_KEY_PATH: keyFile, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_KEY_TYPE: "personal" } }).then(() => undefined, (e: Error & { code?: string }) => e);
    expect(error).toMatchObject({ code: "KEY_TYPE_INVALID", message: expect.stringMatching(/APP_STORE_CONNECT_KEY_TYPE is 'personal'/) });
  });

  it("APP_STORE_CONNECT_KEY_TYPE is trimmed like the identifiers: ' individual ' is individual, never \"'individual' is not a key type\"", async () => {
    const individual = await load({ env: { APP_STORE_CONNECT_PRIVATE_KEY_PATH: keyFile, APP_STORE_CONNECT_KEY_TYPE: " individual\n" } });
    expect(individual.keyType).toBe("individual");
    const team = await load({ env: { APP_STORE_CONNECT_PRIVATE_KEY_PATH: keyFile, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_KEY_TYPE: "team " } });
    expect(team.keyType).toBe("team");
  });

  it.each([
    ["ASC_KEY_ID", { ASC_KEY_ID: "pricing-automation" }, "KEY_ID_LOOKS_LIKE_NAME", "the Key ID came from ASC_KEY_ID"],
    ["EXPO_ASC_ISSUER_ID", { ASC_KEY_ID: TEAM.keyId, EXPO_ASC_ISSUER_ID: "2X9R4HXF34" }, "ISSUER_ID_LOOKS_LIKE_TEAM_ID", "the Issuer ID came from EXPO_ASC_ISSUER_ID"],
    ["APP_STORE_CONNECT_KEY_IDENTIFIER (@env:)", { APP_STORE_CONNECT_KEY_IDENTIFIER: "@env:MY_KEY_ID", MY_KEY_ID: "2x9r4hxf34", ASC_ISSUER_ID: TEAM.issuerId }, "KEY_ID_INVALID", "the Key ID came from APP_STORE_CONNECT_KEY_IDENTIFIER"],
  ])("a bad identifier from %s: the message names that variable, not only the key file", async (_name, variables, code, names) => {
    const unnamed = join(dir, "key.p8");
    writeFileSync(unnamed, key.pem, { mode: 0o600 });
    const error = await load({ env: { ASC_PRIVATE_KEY_PATH: unnamed, ...variables } }).then(() => undefined, (e: Error & { code?: string }) => e);
    expect(error).toMatchObject({ code, message: expect.stringContaining(names) });
  });

  it("readCredential({ file }) and fromFile name their own options (file, keyType), never the CLI's flags", async () => {
    const missing = join(dir, "missing.p8");
    const outcomes = await Promise.all([
      readCredential({ file: missing, issuerId: TEAM.issuerId }),
      readCredential({ file: keyFile, issuerId: TEAM.issuerId, keyType: "personal" as never }),
      AscTokenSource.fromFile(missing, { issuerId: TEAM.issuerId }).getToken(),
    ].map((work) => work.then(() => undefined, (e: Error & { code?: string }) => e)));
    expect(outcomes[0]).toMatchObject({ code: "SECRET_NOT_FOUND", message: expect.stringMatching(/^file '.*missing\.p8' does not exist/) });
    expect(outcomes[1]).toMatchObject({ code: "KEY_TYPE_INVALID", message: expect.stringMatching(/^keyType is 'personal'/) });
    expect(outcomes[2]).toMatchObject({ code: "SECRET_NOT_FOUND", message: expect.stringMatching(/^file '.*missing\.p8' does not exist/) });
    for (const outcome of outcomes) expect(outcome?.message).not.toMatch(/--key|--individual/);
  });

  it("a directory, a missing file and an unreadable file are each named, with the fix", async () => {
    const unreadable = join(dir, "unreadable.p8");
    writeFileSync(unreadable, key.pem, { mode: 0o000 });
    const outcomes = await Promise.all(
      [dir, join(dir, "missing.p8"), unreadable].map((path) => load({ key: path, keyId: TEAM.keyId, issuerId: TEAM.issuerId, env: {} }).then(() => undefined, (e: Error & { code?: string }) => e)),
    );
    chmodSync(unreadable, 0o600);
    expect(outcomes[0]).toMatchObject({ code: "SECRET_READ_FAILED", message: expect.stringMatching(/is a directory\. Point it at the AuthKey_<KEYID>\.p8 file itself/) });
    expect(outcomes[1]).toMatchObject({ code: "SECRET_NOT_FOUND", message: expect.stringMatching(/missing\.p8' does not exist/) });
    // Root reads any file, so only a non-root run sees EACCES.
    if (process.getuid?.() !== 0) expect(outcomes[2]).toMatchObject({ code: "SECRET_READ_FAILED", message: expect.stringMatching(/EACCES/) });
    else expect(outcomes[2]).toBeUndefined();
  });
});
