/**
 * `asc-credential export` given what it must refuse: each is one `asc-credential: CODE: ...` line
 * naming what is wrong and where, exit 1, and nothing half-written: no key file (nor temp file)
 * is left behind, and nothing already there is changed.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parsePrivateKey } from "../../src/core/private-key";
import { CLI } from "../cli/built-cli";
import { run, runSync } from "../support/child";
import { generateTestKey, TEAM, type TestKey } from "../support/keys";
import { cleanUp, expectClean, expectFailure, expectKeyFile, exportWith, listTree, modeOf, startAwsSide, storedJson, tempDir, type AwsSide } from "./helpers";

jest.setTimeout(60_000);

let aws: AwsSide;
beforeAll(async () => {
  aws = await startAwsSide();
}, 120_000);
afterAll(async () => {
  cleanUp();
  await aws?.stop();
});

const KEY_FILE = `AuthKey_${TEAM.keyId}.p8`;

/** A secret holding a valid team credential for a new key. */
async function goodSecret(): Promise<{ key: TestKey; secretId: string }> {
  const key = generateTestKey();
  return { key, secretId: await aws.createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId)) };
}

/**
 * Runs export where permission bits must decide: as root (which ignores them) the child runs
 * without the capabilities that bypass them, so a 0500 directory is as unwritable for it as for
 * anyone else.
 */
async function exportWithoutOverride(args: string[], env: Record<string, string>, keys: TestKey[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (process.getuid?.() !== 0) return exportWith(args, env, keys);
  const result = await run("setpriv", ["--bounding-set=-dac_override,-dac_read_search", "--", process.execPath, CLI, "export", ...args], {
    env: { PATH: process.env.PATH, HOME: tempDir("home"), ...env },
    timeoutMs: 30_000,
  });
  if (result.startError) throw new Error(`setpriv could not run (${result.startError}): as root, these tests need util-linux's setpriv to drop CAP_DAC_OVERRIDE. Install util-linux, or run the tests as a non-root user.`);
  expectClean(result, keys);
  return result;
}

describe("the source is not right", () => {
  test.each([
    ["text that is not JSON", "hello", "is not JSON"],
    ["JSON of another shape", JSON.stringify({ username: "ci", password: "x" }), "has no schemaVersion"],
    ["a newer schemaVersion", JSON.stringify({ schemaVersion: 2 }), "has schemaVersion 2"],
    ["a stored JSON without its key", JSON.stringify({ schemaVersion: 1, keyType: "team", keyId: TEAM.keyId, issuerId: TEAM.issuerId, fingerprint: "sha256:00" }), 'has no "privateKey" field'],
  ])("a secret holding %s: SECRET_FORMAT_INVALID naming the secret, nothing written", async (_what, value, says) => {
    const secretId = await aws.createSecret(value);
    const out = join(tempDir("out"), "keys");
    const result = await exportWith(["--format", "env", "--secret-id", secretId, "--out", out], aws.env, []);
    expectFailure(result, "SECRET_FORMAT_INVALID", `Secret '${secretId}'`, says);
    expect(existsSync(out)).toBe(false);
  });

  test("a secret whose key fails validation (P-384): the key's own code, naming the secret; nothing written", async () => {
    const wrongCurve = generateTestKey("P-384");
    const secretId = await aws.createSecret(JSON.stringify({ schemaVersion: 1, keyType: "team", keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: wrongCurve.pem, fingerprint: `sha256:${"0".repeat(64)}` }));
    const out = join(tempDir("out"), "keys");
    const result = await exportWith(["--format", "fastlane", "--secret-id", secretId, "--out", out], aws.env, [wrongCurve]);
    expectFailure(result, "KEY_WRONG_CURVE", secretId);
    expect(existsSync(out)).toBe(false);
  });

  test("a secret whose key ID is the key's name: KEY_ID_LOOKS_LIKE_NAME; nothing written", async () => {
    const key = generateTestKey();
    const secretId = await aws.createSecret(storedJson(key, "pricing-automation", TEAM.issuerId));
    const out = join(tempDir("out"), "keys");
    const result = await exportWith(["--format", "xcode", "--secret-id", secretId, "--out", out], aws.env, [key]);
    expectFailure(result, "KEY_ID_LOOKS_LIKE_NAME", secretId);
    expect(existsSync(out)).toBe(false);
  });

  test("a secret that does not exist: SECRET_NOT_FOUND naming it, with a fix about secrets (not files)", async () => {
    const out = join(tempDir("out"), "keys");
    const result = await exportWith(["--format", "env", "--secret-id", "app-store-connect/nope", "--out", out], aws.env, []);
    expectFailure(result, "SECRET_NOT_FOUND", "'app-store-connect/nope'", "region");
    expect(result.stderr).toMatch(/\nfix: .*secret's name or ARN/);
    expect(existsSync(out)).toBe(false);
  });

  test("no AWS credentials: SECRET_READ_FAILED saying so", async () => {
    const { secretId } = await goodSecret();
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...noCredentials } = aws.env;
    const out = join(tempDir("out"), "keys");
    const result = await exportWith(["--format", "env", "--secret-id", secretId, "--out", out], noCredentials, []);
    expectFailure(result, "SECRET_READ_FAILED", secretId, "No AWS credentials were found");
    expect(existsSync(out)).toBe(false);
  });

  test.each([
    ["truncated", (key: TestKey) => key.pem.slice(0, 120), "KEY_MALFORMED"],
    ["a public key", (key: TestKey) => key.publicKeyPem, "KEY_IS_PUBLIC"],
  ])("a key in the environment that is %s: its code, naming the variable; nothing written", async (_what, form, code) => {
    const key = generateTestKey();
    const out = join(tempDir("out"), "keys");
    const result = await exportWith(["--format", "dotenv", "--key-env", "ASC_TEST_KEY", "--key-id", TEAM.keyId, "--issuer-id", TEAM.issuerId, "--out", out], { ASC_TEST_KEY: form(key) }, [key]);
    expectFailure(result, code, "ASC_TEST_KEY");
    expect(existsSync(out)).toBe(false);
  });

  test("a key file whose name is another key's ID: KEY_ID_FILENAME_MISMATCH naming both; nothing written", async () => {
    const key = generateTestKey();
    const file = join(tempDir("src"), "AuthKey_9QW8ER7TY6.p8");
    writeFileSync(file, key.pem, { mode: 0o600 });
    const out = join(tempDir("out"), "keys");
    const result = await exportWith(["--format", "env", "--key", file, "--key-id", TEAM.keyId, "--issuer-id", TEAM.issuerId, "--out", out], {}, [key]);
    expectFailure(result, "KEY_ID_FILENAME_MISMATCH", "9QW8ER7TY6", TEAM.keyId);
    expect(existsSync(out)).toBe(false);
  });
});

describe("the output directory is not right", () => {
  test.each(["fastlane", "xcode", "env", "dotenv", "github"])("--format %s, --out whose parent is missing: OUTPUT_INVALID naming both; nothing created", async (format) => {
    const { key, secretId } = await goodSecret();
    const base = tempDir("out");
    const out = join(base, "missing", "keys");
    const githubEnv = join(tempDir("gh"), "env");
    writeFileSync(githubEnv, "");
    const result = await exportWith(["--format", format, "--secret-id", secretId, "--out", out], { ...aws.env, GITHUB_ENV: githubEnv, RUNNER_TEMP: tempDir("rt") }, [key]);
    expectFailure(result, "OUTPUT_INVALID", `'${out}'`, `its parent '${join(base, "missing")}' does not exist`);
    expect(listTree(base)).toEqual([]);
    expect(readFileSync(githubEnv, "utf8")).toBe("");
  });

  test("an existing directory others can enter (0750): OUTPUT_INVALID with the mode and the chmod that fixes it; nothing written", async () => {
    const { key, secretId } = await goodSecret();
    const out = join(tempDir("out"), "shared");
    mkdirSync(out, { mode: 0o750 });
    chmodSync(out, 0o750);
    const result = await exportWith(["--format", "env", "--secret-id", secretId, "--out", out], aws.env, [key]);
    expectFailure(result, "OUTPUT_INVALID", `'${out}'`, "mode 750", `chmod 700 '${out}'`);
    expect(listTree(out)).toEqual([]);
    expect(modeOf(out).toString(8)).toBe("750");
  });

  test("an unwritable directory (0500): OUTPUT_INVALID naming the file; no key and no temp file left", async () => {
    const { key, secretId } = await goodSecret();
    const out = join(tempDir("out"), "read-only");
    mkdirSync(out, { mode: 0o700 });
    chmodSync(out, 0o500);
    try {
      const result = await exportWithoutOverride(["--format", "fastlane", "--secret-id", secretId, "--out", out], aws.env, [key]);
      expectFailure(result, "OUTPUT_INVALID", `'${join(out, KEY_FILE)}' could not be written (EACCES)`);
      expect(listTree(out)).toEqual([]);
    } finally {
      chmodSync(out, 0o700);
    }
  });

  test("a missing --out under an unwritable parent: OUTPUT_INVALID naming the directory; nothing created", async () => {
    const { key, secretId } = await goodSecret();
    const parent = join(tempDir("out"), "read-only");
    mkdirSync(parent, { mode: 0o700 });
    chmodSync(parent, 0o500);
    try {
      const result = await exportWithoutOverride(["--format", "env", "--secret-id", secretId, "--out", join(parent, "keys")], aws.env, [key]);
      expectFailure(result, "OUTPUT_INVALID", `'${join(parent, "keys")}' cannot be created (EACCES)`);
      expect(listTree(parent)).toEqual([]);
    } finally {
      chmodSync(parent, 0o700);
    }
  });

  test("--out that is a file: OUTPUT_INVALID; the file is unchanged", async () => {
    const { key, secretId } = await goodSecret();
    const out = join(tempDir("out"), "a-file");
    writeFileSync(out, "notes\n");
    const result = await exportWith(["--format", "env", "--secret-id", secretId, "--out", out], aws.env, [key]);
    expectFailure(result, "OUTPUT_INVALID", `'${out}' exists and is not a directory`);
    expect(readFileSync(out, "utf8")).toBe("notes\n");
  });
});

describe("symbolic links", () => {
  test("--out that is a symbolic link: refused; nothing written where it points", async () => {
    const { key, secretId } = await goodSecret();
    const base = tempDir("out");
    const target = join(base, "target");
    mkdirSync(target, { mode: 0o700 });
    symlinkSync(target, join(base, "link"));
    const result = await exportWith(["--format", "env", "--secret-id", secretId, "--out", join(base, "link")], aws.env, [key]);
    expectFailure(result, "OUTPUT_INVALID", `'${join(base, "link")}' is a symbolic link`);
    expect(listTree(target)).toEqual([]);
  });

  test("a key file name that is a symbolic link to another file: refused; that file is unchanged", async () => {
    const { key, secretId } = await goodSecret();
    const out = join(tempDir("out"), "keys");
    mkdirSync(out, { mode: 0o700 });
    const victim = join(tempDir("victim"), "authorized_keys");
    writeFileSync(victim, "ssh-ed25519 AAAA victim\n");
    symlinkSync(victim, join(out, KEY_FILE));
    const result = await exportWith(["--format", "env", "--secret-id", secretId, "--out", out, "--force"], aws.env, [key]);
    expectFailure(result, "OUTPUT_INVALID", `'${join(out, KEY_FILE)}' exists and is not a regular file`);
    expect(readFileSync(victim, "utf8")).toBe("ssh-ed25519 AAAA victim\n");
  });

  test("xcode: a private_keys that is a symbolic link: refused", async () => {
    const { key, secretId } = await goodSecret();
    const out = join(tempDir("out"), "project");
    mkdirSync(out, { mode: 0o700 });
    const elsewhere = join(tempDir("elsewhere"), "keys");
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, join(out, "private_keys"));
    const result = await exportWith(["--format", "xcode", "--secret-id", secretId, "--out", out], aws.env, [key]);
    expectFailure(result, "OUTPUT_INVALID", "is a symbolic link");
    expect(listTree(elsewhere)).toEqual([]);
  });

  test("a symbolic link above --out is followed, as macOS's /tmp (a link to /private/tmp) needs", async () => {
    const { key, secretId } = await goodSecret();
    const base = tempDir("out");
    mkdirSync(join(base, "real"), { mode: 0o700 });
    symlinkSync(join(base, "real"), join(base, "tmp"));
    const result = await exportWith(["--format", "env", "--secret-id", secretId, "--out", join(base, "tmp", "keys")], aws.env, [key]);
    expect(result.code).toBe(0);
    expectKeyFile(join(base, "real", "keys", KEY_FILE), key);
  });
});

describe("what is already there", () => {
  test("another key under the same name: OUTPUT_EXISTS without --force (unchanged); replaced with --force", async () => {
    const { key, secretId } = await goodSecret();
    const other = generateTestKey();
    const out = join(tempDir("out"), "keys");
    mkdirSync(out, { mode: 0o700 });
    writeFileSync(join(out, KEY_FILE), other.pem, { mode: 0o600 });

    const refused = await exportWith(["--format", "env", "--secret-id", secretId, "--out", out], aws.env, [key, other]);
    expectFailure(refused, "OUTPUT_EXISTS", `'${join(out, KEY_FILE)}'`, "--force");
    expect(readFileSync(join(out, KEY_FILE), "utf8")).toBe(other.pem);
    expect(listTree(out)).toEqual([KEY_FILE]);

    const forced = await exportWith(["--format", "env", "--secret-id", secretId, "--out", out, "--force"], aws.env, [key, other]);
    expect({ code: forced.code, stderr: forced.stderr }).toEqual({ code: 0, stderr: "" });
    expectKeyFile(join(out, KEY_FILE), key);
    expect(listTree(out)).toEqual([KEY_FILE]);
  });

  test("fastlane: a foreign api_key.json is refused before anything is written (no key file left)", async () => {
    const { key, secretId } = await goodSecret();
    const out = join(tempDir("out"), "keys");
    mkdirSync(out, { mode: 0o700 });
    writeFileSync(join(out, "api_key.json"), '{"key_id":"OTHER"}\n', { mode: 0o600 });
    const result = await exportWith(["--format", "fastlane", "--secret-id", secretId, "--out", out], aws.env, [key]);
    expectFailure(result, "OUTPUT_EXISTS", `'${join(out, "api_key.json")}'`);
    expect(listTree(out)).toEqual(["api_key.json"]);
  });

  test("the same key in another layout (CRLF, group-readable) is rewritten normalised and 0600 without --force", async () => {
    const { key, secretId } = await goodSecret();
    const out = join(tempDir("out"), "keys");
    mkdirSync(out, { mode: 0o700 });
    writeFileSync(join(out, KEY_FILE), key.pem.replace(/\n/g, "\r\n"));
    chmodSync(join(out, KEY_FILE), 0o640);
    const result = await exportWith(["--format", "env", "--secret-id", secretId, "--out", out], aws.env, [key]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expectKeyFile(join(out, KEY_FILE), key);
    expect(readFileSync(join(out, KEY_FILE), "utf8")).toBe(parsePrivateKey(key.pem).pem);
  });
});

describe("--format github outside a runner, or with a hostile runner file", () => {
  test("GITHUB_ENV not set: OUTPUT_INVALID naming GITHUB_ENV; no key under RUNNER_TEMP", async () => {
    const { key, secretId } = await goodSecret();
    const runnerTemp = tempDir("rt");
    const result = await exportWith(["--format", "github", "--secret-id", secretId], { ...aws.env, RUNNER_TEMP: runnerTemp }, [key]);
    expectFailure(result, "OUTPUT_INVALID", "$GITHUB_ENV, which is not set", "--format env or dotenv");
    expect(listTree(runnerTemp)).toEqual([]);
  });

  test("RUNNER_TEMP not set and no --out: OUTPUT_INVALID naming RUNNER_TEMP; GITHUB_ENV untouched", async () => {
    const { key, secretId } = await goodSecret();
    const githubEnv = join(tempDir("gh"), "env");
    writeFileSync(githubEnv, "");
    const result = await exportWith(["--format", "github", "--secret-id", secretId], { ...aws.env, GITHUB_ENV: githubEnv }, [key]);
    expectFailure(result, "OUTPUT_INVALID", "$RUNNER_TEMP, which is not set", "--out DIR");
    expect(readFileSync(githubEnv, "utf8")).toBe("");
  });

  test.each([
    ["a missing file", (dir: string) => join(dir, "missing")],
    ["a directory", (dir: string) => dir],
    [
      "a symbolic link (to a file another step reads)",
      (dir: string) => {
        writeFileSync(join(dir, "profile"), "# profile\n");
        symlinkSync(join(dir, "profile"), join(dir, "link"));
        return join(dir, "link");
      },
    ],
    [
      "a FIFO (nothing reads it: export must not hang)",
      (dir: string) => {
        const fifo = join(dir, "fifo");
        if (runSync("mkfifo", [fifo]).code !== 0) throw new Error("mkfifo failed");
        return fifo;
      },
    ],
  ])("GITHUB_ENV that is %s: OUTPUT_INVALID naming it; no key written", async (_what, make) => {
    const { key, secretId } = await goodSecret();
    const dir = tempDir("gh");
    const githubEnv = make(dir);
    const out = join(tempDir("out"), "keys");
    const result = await exportWith(["--format", "github", "--secret-id", secretId, "--out", out], { ...aws.env, GITHUB_ENV: githubEnv }, [key]);
    expectFailure(result, "OUTPUT_INVALID", `GITHUB_ENV '${githubEnv}'`);
    expect(existsSync(out)).toBe(false);
    if (existsSync(join(dir, "profile"))) expect(readFileSync(join(dir, "profile"), "utf8")).toBe("# profile\n");
  });

  test("GITHUB_ENV that cannot be written: OUTPUT_INVALID before any key file is written", async () => {
    const { key, secretId } = await goodSecret();
    const githubEnv = join(tempDir("gh"), "env");
    writeFileSync(githubEnv, "", { mode: 0o400 });
    chmodSync(githubEnv, 0o400);
    const out = join(tempDir("out"), "keys");
    const result = await exportWithoutOverride(["--format", "github", "--secret-id", secretId, "--out", out], { ...aws.env, GITHUB_ENV: githubEnv }, [key]);
    expectFailure(result, "OUTPUT_INVALID", `GITHUB_ENV '${githubEnv}' cannot be written (EACCES)`);
    expect(existsSync(out)).toBe(false);
  });
});

describe("paths that would inject lines into GITHUB_ENV or .env, or carry a key", () => {
  const NEWLINE_DIR = "keys\nNODE_OPTIONS=--require=/tmp/evil.js";

  test.each([
    ["--out", (base: string) => ({ args: ["--out", join(base, NEWLINE_DIR)], env: {} })],
    ["RUNNER_TEMP", (base: string) => ({ args: [], env: { RUNNER_TEMP: join(base, NEWLINE_DIR) } })],
    [
      "GITHUB_ENV (an existing file)",
      (base: string) => {
        const file = join(tempDir("gh"), NEWLINE_DIR, "env");
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, "");
        return { args: ["--out", join(base, "keys")], env: { GITHUB_ENV: file } };
      },
    ],
  ])("a newline in %s: OUTPUT_INVALID; GITHUB_ENV untouched, nothing created", async (_where, make) => {
    const { key, secretId } = await goodSecret();
    const base = tempDir("out");
    const githubEnv = join(tempDir("gh"), "env");
    writeFileSync(githubEnv, "");
    const { args, env } = make(base) as { args: string[]; env: Record<string, string> };
    const result = await exportWith(["--format", "github", "--secret-id", secretId, ...args], { ...aws.env, GITHUB_ENV: githubEnv, ...env }, [key]);
    expectFailure(result, "OUTPUT_INVALID");
    expect(readFileSync(env.GITHUB_ENV ?? githubEnv, "utf8")).toBe("");
    expect(listTree(base)).toEqual([]);
  });

  test("a relative --out in a working directory whose name has a newline: refused (the resolved path would inject a line)", async () => {
    const { key, secretId } = await goodSecret();
    const cwd = join(tempDir("cwd"), NEWLINE_DIR);
    mkdirSync(cwd, { recursive: true });
    const githubEnv = join(tempDir("gh"), "env");
    writeFileSync(githubEnv, "");
    const result = await exportWith(["--format", "github", "--secret-id", secretId, "--out", "keys"], { ...aws.env, GITHUB_ENV: githubEnv }, [key], { cwd });
    expectFailure(result, "OUTPUT_INVALID", "--out");
    expect(readFileSync(githubEnv, "utf8")).toBe("");
    expect(listTree(cwd)).toEqual([]);
  });

  test("a HOME with a newline (the default directory): refused for dotenv", async () => {
    const { key, secretId } = await goodSecret();
    const home = join(tempDir("home"), NEWLINE_DIR);
    mkdirSync(home, { recursive: true });
    const result = await exportWith(["--format", "dotenv", "--secret-id", secretId], { ...aws.env, HOME: home }, [key]);
    expectFailure(result, "OUTPUT_INVALID", "HOME");
    expect(listTree(home)).toEqual([]);
  });

  test.each([
    ["a quote", "o'brien keys"],
    ["a backslash", "keys\\x"],
  ])("--format dotenv, an --out with %s (each dotenv reader unquotes it its own way): OUTPUT_INVALID, nothing created", async (_what, name) => {
    const { key, secretId } = await goodSecret();
    const base = tempDir("out");
    const result = await exportWith(["--format", "dotenv", "--secret-id", secretId, "--out", join(base, name)], aws.env, [key]);
    expectFailure(result, "OUTPUT_INVALID", ".env", "--out");
    expect(listTree(base)).toEqual([]);
  });

  test("an --out that holds key material (a pasted key): refused without repeating it", async () => {
    const { key, secretId } = await goodSecret();
    const body = key.pem.split("\n")[1]!;
    const base = tempDir("out");
    const result = await exportWith(["--format", "env", "--secret-id", secretId, "--out", join(base, body)], aws.env, [key]);
    expectFailure(result, "OUTPUT_INVALID", "--out");
    expect(listTree(base)).toEqual([]);
  });

  test("an empty --out (an unset variable) is a usage error, not the working directory", async () => {
    const { key, secretId } = await goodSecret();
    const cwd = tempDir("cwd");
    const result = await exportWith(["--format", "env", "--secret-id", secretId, "--out", ""], aws.env, [key], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^asc-credential: --out needs a directory/);
    expect(listTree(cwd)).toEqual([]);
  });

  test("--format that is not one: usage error (exit 2) listing the formats", async () => {
    const result = await exportWith(["--format", "netrc", "--secret-id", "x"], aws.env, []);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--format must be one of fastlane, xcode, env, dotenv, github");
  });
});
