/**
 * codemagic-cli-tools (PyPI, pinned in scripts/tool-versions.env), the real `app-store-connect`
 * command, loads what `export` wrote and calls the FAKE App Store Connect API with its own token.
 *
 * How codemagic reaches the fake: its base URL cannot be configured (no flag, no variable; it is
 * the class constant AppStoreConnectApiClient.API_URL), so drivers/codemagic_app_store_connect.py
 * replaces that constant in-process and runs codemagic's own entry point. The variables, the
 * `@file:` reference, the key loading, the JWT and the HTTP request are all codemagic's.
 *
 * codemagic 0.70.0 signs `{iss, exp, aud}` without `iat`, which Apple documents but evidently does
 * not enforce (codemagic works against Apple every day); the fake requires it by default. The
 * acceptance tests use a fake with `requireIssuedAt: false`, and one test pins that this is the
 * only rule codemagic's token misses, so a codemagic that adds `iat` makes it fail and the
 * relaxation can go.
 */
import { join } from "node:path";
import { run } from "../support/child";
import { FakeAscApi } from "../support/fake-asc-api";
import { generateTestKey, TEAM, type TestKey } from "../support/keys";
import { cleanUp, consumersBin, DRIVERS, expectClean, exportWith, startAwsSide, storedJson, tempDir, type AwsSide } from "./helpers";

jest.setTimeout(120_000);

let aws: AwsSide;
let bin: string;
beforeAll(async () => {
  bin = consumersBin();
  aws = await startAwsSide();
}, 120_000);
afterAll(async () => {
  cleanUp();
  await aws?.stop();
});

const fakes: FakeAscApi[] = [];
afterEach(async () => {
  for (const fake of fakes.splice(0)) await fake.stop();
});

async function fakeApi(options: { requireIssuedAt?: boolean } = {}): Promise<FakeAscApi> {
  const fake = await FakeAscApi.start({ requireIssuedAt: false, ...options });
  fakes.push(fake);
  return fake;
}

/**
 * Runs `script` (which may `eval` export's output) and then codemagic's `app-store-connect apps
 * list --json` in a clean environment: no AWS variables, no key, a HOME and TMPDIR of its own.
 * Whatever codemagic prints is checked for key material and tokens too.
 */
async function codemagic(script: string, fake: FakeAscApi, home: string, keys: TestKey[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await run(
    "bash",
    [
      "--noprofile",
      "--norc",
      "-c",
      `set -e\n${script}\nexec python "$ASC_DRIVER" apps list --json --disable-jwt-cache --api-unauthorized-retries 1 --no-color`,
    ],
    {
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: home, TMPDIR: home, LANG: "C.UTF-8", NO_PROXY: "*", ASC_DRIVER: join(DRIVERS, "codemagic_app_store_connect.py"), ASC_FAKE_API_URL: fake.baseUrl },
      cwd: home,
      timeoutMs: 90_000,
    },
  );
  expectClean(result, keys);
  return result;
}

async function exportEnv(key: TestKey, out: string): Promise<string> {
  const secretId = await aws.createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId));
  const exported = await exportWith(["--format", "env", "--secret-id", secretId, "--out", out], aws.env, [key]);
  expect({ code: exported.code, stderr: exported.stderr }).toEqual({ code: 0, stderr: "" });
  return exported.stdout;
}

test("app-store-connect loads `export --format env` (KEY_IDENTIFIER, ISSUER_ID, PRIVATE_KEY=@file:) and the fake accepts its token", async () => {
  const key = generateTestKey();
  const fake = await fakeApi();
  fake.registerKey({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, publicKeyPem: key.publicKeyPem });
  // The key goes outside every directory codemagic searches: it can only come from the variable.
  const stdout = await exportEnv(key, join(tempDir("out"), "keys"));

  const result = await codemagicWith(stdout, fake, [key]);
  // The fake holds no apps: codemagic says so on stderr and prints an empty list.
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "Did not find any Apps matching specified filters: *.\n" });
  expect(JSON.parse(result.stdout)).toEqual([]);
  expect(fake.requests.filter((r) => r.path.startsWith("/v1/apps")).map((r) => ({ kid: r.kid, status: r.status }))).toContainEqual({ kid: TEAM.keyId, status: 200 });
});

/** {@link codemagic} with export's printed lines evaluated first. */
function codemagicWith(exported: string, fake: FakeAscApi, keys: TestKey[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return codemagic(`eval ${shellSingleQuote(exported)}`, fake, tempDir("home"), keys);
}

function shellSingleQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

test("the same run against a fake that knows another public key for this key ID is refused (the test can fail)", async () => {
  const key = generateTestKey();
  const impostor = generateTestKey();
  const fake = await fakeApi();
  fake.registerKey({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, publicKeyPem: impostor.publicKeyPem });
  const result = await codemagicWith(await exportEnv(key, join(tempDir("out"), "keys")), fake, [key, impostor]);
  expect(result.code).not.toBe(0);
  expect(fake.requests.map((r) => r.status)).toContain(401);
  expect(fake.requests.map((r) => r.status)).not.toContain(200);
});

test("codemagic's token misses only `iat`: the fake's default (Apple's documented rule) refuses it", async () => {
  const key = generateTestKey();
  const strict = await fakeApi({ requireIssuedAt: true });
  strict.registerKey({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, publicKeyPem: key.publicKeyPem });
  const result = await codemagicWith(await exportEnv(key, join(tempDir("out"), "keys")), strict, [key]);
  expect(result.code).not.toBe(0);
  expect(strict.requests.filter((r) => r.path.startsWith("/v1/apps")).map((r) => ({ kid: r.kid, status: r.status }))).toContainEqual({ kid: TEAM.keyId, status: 401 });
});

test("the xcode default directory (~/.appstoreconnect/private_keys) is one codemagic searches: key ID and Issuer ID are enough", async () => {
  const key = generateTestKey();
  const fake = await fakeApi();
  fake.registerKey({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, publicKeyPem: key.publicKeyPem });
  const home = tempDir("home");
  const secretId = await aws.createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId));
  const exported = await exportWith(["--format", "xcode", "--secret-id", secretId], { ...aws.env, HOME: home }, [key]);
  expect(exported.code).toBe(0);

  const result = await codemagic(`export APP_STORE_CONNECT_KEY_IDENTIFIER=${TEAM.keyId} APP_STORE_CONNECT_ISSUER_ID=${TEAM.issuerId}`, fake, home, [key]);
  expect({ code: result.code, stdout: result.stdout.trim() }).toEqual({ code: 0, stdout: "[]" });
  expect(fake.requests.map((r) => ({ kid: r.kid, status: r.status }))).toContainEqual({ kid: TEAM.keyId, status: 200 });
});

test("without the variables, codemagic finds nothing: the variables are what carried the key", async () => {
  const fake = await fakeApi();
  const result = await codemagic("true", fake, tempDir("home"), []);
  expect(result.code).not.toBe(0);
  expect(fake.requests).toEqual([]);
});
