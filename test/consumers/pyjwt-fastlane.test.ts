/**
 * PyJWT with cryptography (PyPI, pinned in scripts/tool-versions.env) signs ES256 tokens with the
 * key files `export` wrote, found through each convention's variables; every token verifies with
 * the key's public half and the FAKE App Store Connect API accepts it.
 *
 * fastlane cannot be installed here (RubyGems is not reachable), so its `api_key.json` is checked
 * against fastlane's documented format only: the fields its `app_store_connect_api_key` action
 * and `api_key_path:` option document (`key_id`, `issuer_id`, `key`, `duration?`, `in_house?`),
 * as Spaceship::ConnectAPI::Token.from_json_file reads them, and a token built from the file by
 * fastlane's rules (mirrored in drivers/pyjwt_sign.py, signed by PyJWT) must pass the fake.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parsePrivateKey } from "../../src/core/private-key";
import { run } from "../support/child";
import { FakeAscApi } from "../support/fake-asc-api";
import { generatedTestKeys, generateTestKey, TEAM, type TestKey } from "../support/keys";
import { cleanUp, consumersBin, DRIVERS, expectClean, exportWith, startAwsSide, storedJson, tempDir, type AwsSide } from "./helpers";

jest.setTimeout(120_000);

const INDIVIDUAL_KEY_ID = "7MM5YSX5LS";
const DRIVER = join(DRIVERS, "pyjwt_sign.py");

let aws: AwsSide;
let bin: string;
let fake: FakeAscApi;
beforeAll(async () => {
  bin = consumersBin();
  aws = await startAwsSide();
  fake = await FakeAscApi.start();
}, 120_000);
afterAll(async () => {
  cleanUp();
  await fake?.stop();
  await aws?.stop();
});

interface Judged {
  label: string;
  status: number;
  verified: true | string;
  header: Record<string, unknown>;
  claims: string[];
}

/** Runs the driver (after `script`, which may eval export's lines) in a clean environment. */
async function pyjwt(script: string, args: string[], key: TestKey, api: FakeAscApi = fake): Promise<Judged[]> {
  const home = tempDir("py-home");
  const result = await run("bash", ["--noprofile", "--norc", "-c", `set -e\n${script}\nexec python "$ASC_DRIVER" "$@"`, "pyjwt", ...args], {
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: home, TMPDIR: home, LANG: "C.UTF-8", NO_PROXY: "*", ASC_DRIVER: DRIVER, ASC_FAKE_API_URL: api.baseUrl, ASC_PUBLIC_KEY_PEM: key.publicKeyPem },
    timeoutMs: 60_000,
  });
  expectClean(result, generatedTestKeys());
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  return result.stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line) as Judged);
}

function quoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

async function exported(format: "env" | "fastlane", key: TestKey, keyId: string, issuerId: string | undefined): Promise<{ stdout: string; out: string }> {
  const secretId = await aws.createSecret(storedJson(key, keyId, issuerId));
  const out = join(tempDir("out"), "keys");
  const result = await exportWith(["--format", format, "--secret-id", secretId, "--out", out], aws.env, [key]);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  return { stdout: result.stdout, out };
}

describe.each([
  ["a team key", TEAM.keyId, TEAM.issuerId as string | undefined, ["aud", "exp", "iat", "iss"]],
  ["an individual key", INDIVIDUAL_KEY_ID, undefined, ["aud", "exp", "iat", "sub"]],
])("%s", (_what, keyId, issuerId, claims) => {
  test("PyJWT signs with the key file every convention's variables point at; each token verifies and the fake accepts it", async () => {
    const key = generateTestKey();
    fake.registerKey({ keyId, publicKeyPem: key.publicKeyPem, ...(issuerId ? { issuerId, keyType: "team" as const } : { keyType: "individual" as const }) });
    const { stdout } = await exported("env", key, keyId, issuerId);
    const judged = await pyjwt(`eval ${quoted(stdout)}`, ["env"], key);
    expect(judged.map((j) => j.label)).toEqual(["asc-credential", "fastlane", "codemagic", "eas", "asc", "altool"]);
    for (const j of judged) {
      expect(j).toEqual({ label: j.label, status: 200, verified: true, header: { alg: "ES256", kid: keyId, typ: "JWT" }, claims });
    }
  });

  test("fastlane's api_key.json has fastlane's documented fields, and a token built by fastlane's rules passes the fake", async () => {
    const key = generateTestKey();
    fake.registerKey({ keyId, publicKeyPem: key.publicKeyPem, ...(issuerId ? { issuerId, keyType: "team" as const } : { keyType: "individual" as const }) });
    const { stdout, out } = await exported("fastlane", key, keyId, issuerId);
    const path = stdout.trim();
    expect(path).toBe(join(out, "api_key.json"));

    // fastlane's format, field by field: `key_id` and `key` required; `issuer_id` only for a team
    // key (fastlane treats a file without it as an individual key); `key` the PEM text itself
    // (fastlane reads it with OpenSSL::PKey::EC.new; `is_key_content_base64` would make it
    // base64-decode); `in_house` a boolean, false (true switches fastlane to the enterprise
    // audience); `duration` optional. No other field.
    const json = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    const documented = ["key_id", "issuer_id", "key", "duration", "in_house"];
    expect(Object.keys(json).filter((name) => !documented.includes(name))).toEqual([]);
    expect(json.key_id).toBe(keyId);
    expect(json.issuer_id).toBe(issuerId);
    expect(json.key).toBe(parsePrivateKey(key.pem).pem);
    expect(json.in_house).toBe(false);
    expect(json.duration).toBeUndefined();

    const judged = await pyjwt("", ["fastlane-json", path], key);
    expect(judged).toEqual([{ label: "fastlane api_key.json", status: 200, verified: true, header: { alg: "ES256", kid: keyId, typ: "JWT" }, claims }]);
  });
});

describe("the fake judges these tokens, it does not wave them through", () => {
  test("a token from the exported file for a key ID the fake knows with another public key: 401, and it does not verify", async () => {
    const key = generateTestKey();
    const other = generateTestKey();
    const api = await FakeAscApi.start();
    try {
      api.registerKey({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, publicKeyPem: other.publicKeyPem });
      const { out } = await exported("env", key, TEAM.keyId, TEAM.issuerId);
      const judged = await pyjwt("", ["file", join(out, `AuthKey_${TEAM.keyId}.p8`), TEAM.keyId, TEAM.issuerId], other, api);
      expect(judged.map((j) => ({ status: j.status, verified: j.verified }))).toEqual([{ status: 401, verified: "InvalidSignatureError" }]);
    } finally {
      await api.stop();
    }
  });

  test("`iat`: required by default; optional with requireIssuedAt: false, but never a non-number", async () => {
    const key = generateTestKey();
    const strict = await FakeAscApi.start();
    const relaxed = await FakeAscApi.start({ requireIssuedAt: false });
    try {
      for (const api of [strict, relaxed]) api.registerKey({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, publicKeyPem: key.publicKeyPem });
      const { out } = await exported("env", key, TEAM.keyId, TEAM.issuerId);
      const file = join(out, `AuthKey_${TEAM.keyId}.p8`);
      const status = async (api: FakeAscApi, flag?: string): Promise<number> => (await pyjwt("", ["file", file, TEAM.keyId, TEAM.issuerId, ...(flag ? [flag] : [])], key, api))[0]!.status;
      expect({
        strictWithIat: await status(strict),
        strictWithout: await status(strict, "--omit-iat"),
        relaxedWithout: await status(relaxed, "--omit-iat"),
        relaxedString: await status(relaxed, "--iat-string"),
      }).toEqual({ strictWithIat: 200, strictWithout: 401, relaxedWithout: 200, relaxedString: 401 });
    } finally {
      await strict.stop();
      await relaxed.stop();
    }
  });
});
