/**
 * `asc-credential export`, every format, from every kind of source: a secret in Secrets Manager
 * (moto, reached through the SDK's default client as in a CI job), environment variables and a
 * key file. What lands on disk (modes, the normalised PEM), what a shell makes of the printed
 * lines, and that no output holds key material or a token.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parsePrivateKey } from "../../src/core/private-key";
import { runCli } from "../cli/built-cli";
import { run } from "../support/child";
import { generateTestKey, TEAM, type TestKey } from "../support/keys";
import { cleanUp, expectClean, expectedVariables, expectKeyFile, exportWith, listTree, modeOf, parseAssignments, startAwsSide, storedJson, tempDir, type AwsSide } from "./helpers";

jest.setTimeout(60_000);

const FORMATS = ["fastlane", "xcode", "env", "dotenv", "github"] as const;
type Format = (typeof FORMATS)[number];
const INDIVIDUAL_KEY_ID = "7MM5YSX5LS";

let aws: AwsSide;
beforeAll(async () => {
  aws = await startAwsSide();
}, 120_000);
afterAll(async () => {
  cleanUp();
  await aws?.stop();
});

/** A way to hand export the key, and the environment it needs. */
interface Source {
  args: string[];
  env: Record<string, string>;
}

/** The three kinds of source, each holding `key` in a form export must normalise. */
async function sourceOf(kind: "secret-id" | "env" | "file", key: TestKey): Promise<Source> {
  switch (kind) {
    case "secret-id":
      return { args: ["--secret-id", await aws.createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId))], env: aws.env };
    case "env":
      // codemagic's variables, the key as a one-line base64 of the PEM: the usual CI secret.
      return {
        args: [],
        env: { APP_STORE_CONNECT_KEY_IDENTIFIER: TEAM.keyId, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_PRIVATE_KEY: Buffer.from(key.pem).toString("base64") },
      };
    case "file": {
      // CRLF and SEC1: a key file that went through a Windows editor and an openssl conversion.
      const file = join(tempDir("src"), `AuthKey_${TEAM.keyId}.p8`);
      writeFileSync(file, key.sec1Pem.replace(/\n/g, "\r\n"), { mode: 0o600 });
      return { args: ["--key", file, "--issuer-id", TEAM.issuerId], env: {} };
    }
  }
}

/**
 * What a POSIX shell ends up with after running `script`: the variables it set (the shell's own
 * and PATH left out). The printed lines are meant for `eval`, so a shell is the judge of them.
 */
async function shellVariables(script: string): Promise<Record<string, string>> {
  const result = await run("bash", ["--noprofile", "--norc", "-c", 'eval "$ASC_SCRIPT" && unset ASC_SCRIPT && env -0'], { env: { PATH: process.env.PATH, ASC_SCRIPT: script } });
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  const vars: Record<string, string> = {};
  for (const entry of result.stdout.split("\0").filter(Boolean)) {
    const at = entry.indexOf("=");
    vars[entry.slice(0, at)] = entry.slice(at + 1);
  }
  for (const name of ["PATH", "PWD", "OLDPWD", "SHLVL", "_"]) delete vars[name];
  return vars;
}

/** The words of one printed line as a shell splits them. */
async function shellWords(line: string): Promise<string[]> {
  const result = await run("bash", ["--noprofile", "--norc", "-c", 'eval "words=($ASC_LINE)" && printf "%s\\0" "${words[@]}"'], { env: { PATH: process.env.PATH, ASC_LINE: line } });
  expect(result.code).toBe(0);
  return result.stdout.split("\0").slice(0, -1);
}

/** The value after `flag` among `words`. */
function after(words: string[], flag: string): string | undefined {
  const at = words.indexOf(flag);
  return at === -1 ? undefined : words[at + 1];
}

/** Runs one export into a fresh `--out` (a name with a space, so quoting is exercised) and checks everything it wrote. */
async function checkExport(format: Format, source: Source, key: TestKey, identity: { keyId: string; issuerId?: string }): Promise<void> {
  const out = join(tempDir("out"), "keys for ci");
  const githubEnv = join(tempDir("gh"), "github_env");
  writeFileSync(githubEnv, "EARLIER_STEP=kept\n", { mode: 0o644 });
  const env = { ...source.env, ...(format === "github" ? { GITHUB_ENV: githubEnv, RUNNER_TEMP: tempDir("runner-temp") } : {}) };
  const result = await exportWith(["--format", format, ...source.args, "--out", out], env, [key]);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });

  const keyDirectory = format === "xcode" ? join(out, "private_keys") : out;
  const keyPath = join(keyDirectory, `AuthKey_${identity.keyId}.p8`);
  expectKeyFile(keyPath, key);
  expect(modeOf(out).toString(8)).toBe("700");
  const variables = expectedVariables(keyPath, keyDirectory, identity.keyId, identity.issuerId);

  switch (format) {
    case "fastlane": {
      expect(listTree(out)).toEqual([`AuthKey_${identity.keyId}.p8`, "api_key.json"]);
      expect(result.stdout).toBe(`${join(out, "api_key.json")}\n`);
      expect(modeOf(join(out, "api_key.json")).toString(8)).toBe("600");
      const json = JSON.parse(readFileSync(join(out, "api_key.json"), "utf8")) as Record<string, unknown>;
      expect(json).toEqual({ key_id: identity.keyId, ...(identity.issuerId ? { issuer_id: identity.issuerId } : {}), key: parsePrivateKey(key.pem).pem, in_house: false });
      break;
    }
    case "xcode": {
      expect(listTree(out)).toEqual(["private_keys", `private_keys/AuthKey_${identity.keyId}.p8`]);
      const lines = result.stdout.split("\n");
      const xcodebuild = await shellWords(lines[lines.indexOf("# xcodebuild (archive, export, upload):") + 1]!);
      expect(xcodebuild).toEqual(["-authenticationKeyPath", keyPath, "-authenticationKeyID", identity.keyId, ...(identity.issuerId ? ["-authenticationKeyIssuerID", identity.issuerId] : [])]);
      const notarytool = lines[lines.indexOf("# xcrun notarytool:") + 1]!;
      if (identity.issuerId) {
        const words = await shellWords(notarytool);
        expect({ key: after(words, "--key"), keyId: after(words, "--key-id"), issuer: after(words, "--issuer"), count: words.length }).toEqual({ key: keyPath, keyId: identity.keyId, issuer: identity.issuerId, count: 6 });
      } else {
        // notarytool takes team keys only: the line says so instead of printing arguments that fail.
        expect(notarytool).toMatch(/^# .*individual keys cannot notarize/);
      }
      // altool looks for AuthKey_<KEYID>.p8 in API_PRIVATE_KEYS_DIR.
      const altool = await shellVariables(lines.find((line) => line.startsWith("export API_PRIVATE_KEYS_DIR="))!);
      expect(altool).toEqual({ API_PRIVATE_KEYS_DIR: keyDirectory });
      expect(listTree(altool.API_PRIVATE_KEYS_DIR!)).toContain(`AuthKey_${identity.keyId}.p8`);
      break;
    }
    case "env": {
      expect(listTree(out)).toEqual([`AuthKey_${identity.keyId}.p8`]);
      expect(result.stdout.split("\n").filter(Boolean).every((line) => line.startsWith("export "))).toBe(true);
      expect(await shellVariables(result.stdout)).toEqual(variables);
      break;
    }
    case "dotenv": {
      expect(listTree(out)).toEqual([".env", `AuthKey_${identity.keyId}.p8`]);
      expect(result.stdout).toBe(`${join(out, ".env")}\n`);
      expect(modeOf(join(out, ".env")).toString(8)).toBe("600");
      const text = readFileSync(join(out, ".env"), "utf8");
      expect(Object.fromEntries(parseAssignments(text, true))).toEqual(variables);
      // The usual way to load a .env into a shell script.
      expect(await shellVariables(`set -a; . ${JSON.stringify(join(out, ".env"))}; set +a`)).toEqual(variables);
      break;
    }
    case "github": {
      expect(listTree(out)).toEqual([`AuthKey_${identity.keyId}.p8`]);
      const text = readFileSync(githubEnv, "utf8");
      // Appended after what earlier steps wrote; the runner's file keeps its own mode.
      expect(text.startsWith("EARLIER_STEP=kept\n")).toBe(true);
      expect(modeOf(githubEnv).toString(8)).toBe("644");
      const lines = parseAssignments(text.slice("EARLIER_STEP=kept\n".length), false);
      expect(Object.fromEntries(lines)).toEqual(variables);
      expect(result.stdout).toContain(`Set ${Object.keys(variables).length} variables for the next steps (GITHUB_ENV)`);
      expect(result.stdout).toContain(`Key file: ${keyPath}\n`);
      break;
    }
  }
}

describe.each(["secret-id", "env", "file"] as const)("from %s", (kind) => {
  test.each(FORMATS)("--format %s writes the normalised key 0600 in 0700 and prints only paths and IDs", async (format) => {
    const key = generateTestKey();
    await checkExport(format, await sourceOf(kind, key), key, TEAM);
  });
});

describe("an individual key from Secrets Manager", () => {
  test.each(FORMATS)("--format %s leaves out every Issuer ID and marks the key individual", async (format) => {
    const key = generateTestKey();
    const secretId = await aws.createSecret(storedJson(key, INDIVIDUAL_KEY_ID, undefined));
    await checkExport(format, { args: ["--secret-id", secretId], env: aws.env }, key, { keyId: INDIVIDUAL_KEY_ID });
  });
});

describe("default directories", () => {
  test.each([
    ["fastlane", ".appstoreconnect/private_keys"],
    ["env", ".appstoreconnect/private_keys"],
    ["dotenv", ".appstoreconnect/private_keys"],
    ["xcode", ".appstoreconnect/private_keys"],
  ] as const)("--format %s without --out writes under HOME/%s, creating it 0700", async (format, where) => {
    const key = generateTestKey();
    const home = tempDir("home");
    const result = await exportWith(["--format", format, "--secret-id", await aws.createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId))], { ...aws.env, HOME: home }, [key]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expectKeyFile(join(home, where, `AuthKey_${TEAM.keyId}.p8`), key);
    expect(modeOf(join(home, ".appstoreconnect")).toString(8)).toBe("700");
  });

  test("--format github without --out writes under RUNNER_TEMP/asc-credential", async () => {
    const key = generateTestKey();
    const runnerTemp = tempDir("runner-temp");
    const githubEnv = join(runnerTemp, "_runner_file_commands_set_env");
    writeFileSync(githubEnv, "");
    const result = await exportWith(["--format", "github", "--secret-id", await aws.createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId))], { ...aws.env, GITHUB_ENV: githubEnv, RUNNER_TEMP: runnerTemp }, [key]);
    expect(result.code).toBe(0);
    const keyPath = join(runnerTemp, "asc-credential", `AuthKey_${TEAM.keyId}.p8`);
    expectKeyFile(keyPath, key);
    expect(Object.fromEntries(parseAssignments(readFileSync(githubEnv, "utf8"), false))).toEqual(expectedVariables(keyPath, join(runnerTemp, "asc-credential"), TEAM.keyId, TEAM.issuerId));
  });

  test("a relative RUNNER_TEMP or --out is written to GITHUB_ENV as an absolute path (later steps may run elsewhere)", async () => {
    const key = generateTestKey();
    const cwd = tempDir("cwd");
    const githubEnv = join(cwd, "github_env");
    writeFileSync(githubEnv, "");
    const secretId = await aws.createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId));
    const result = await exportWith(["--format", "github", "--secret-id", secretId], { ...aws.env, GITHUB_ENV: githubEnv, RUNNER_TEMP: "runner-temp" }, [key], { cwd });
    expect(result.code).toBe(0);
    const vars = parseAssignments(readFileSync(githubEnv, "utf8"), false);
    expect(vars.get("APP_STORE_CONNECT_PRIVATE_KEY_PATH")).toBe(join(cwd, "runner-temp", "asc-credential", `AuthKey_${TEAM.keyId}.p8`));
    expectKeyFile(vars.get("APP_STORE_CONNECT_PRIVATE_KEY_PATH")!, key);
  });
});

describe("a rotation, as a CI job sees it", () => {
  test("a job that exported before keeps its key file; the next export gets AWSCURRENT; --version-stage AWSPREVIOUS gets the old key", async () => {
    const oldKey = generateTestKey();
    const newKey = generateTestKey();
    const NEW_KEY_ID = "9QW8ER7TY6";
    const secretId = await aws.createSecret(storedJson(oldKey, TEAM.keyId, TEAM.issuerId));
    const keys = [oldKey, newKey];

    const before = join(tempDir("job-1"), "keys");
    expect((await exportWith(["--format", "env", "--secret-id", secretId, "--out", before], aws.env, keys)).code).toBe(0);

    await aws.rotate(secretId, storedJson(newKey, NEW_KEY_ID, TEAM.issuerId));

    const after = join(tempDir("job-2"), "keys");
    const current = await exportWith(["--format", "env", "--secret-id", secretId, "--out", after], aws.env, keys);
    expect(current.code).toBe(0);
    expect((await shellVariables(current.stdout)).APP_STORE_CONNECT_KEY_ID).toBe(NEW_KEY_ID);
    expectKeyFile(join(after, `AuthKey_${NEW_KEY_ID}.p8`), newKey);
    // The first job's file is untouched: it goes on using the old key until it ends.
    expectKeyFile(join(before, `AuthKey_${TEAM.keyId}.p8`), oldKey);

    const previous = join(tempDir("job-3"), "keys");
    const old = await exportWith(["--format", "env", "--secret-id", secretId, "--version-stage", "AWSPREVIOUS", "--out", previous], aws.env, keys);
    expect(old.code).toBe(0);
    expectKeyFile(join(previous, `AuthKey_${TEAM.keyId}.p8`), oldKey);
  });

  test("exporting the same key again into the same directory leaves the files alone and says so", async () => {
    const key = generateTestKey();
    const secretId = await aws.createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId));
    const out = join(tempDir("again"), "keys");
    expect((await exportWith(["--format", "fastlane", "--secret-id", secretId, "--out", out], aws.env, [key])).code).toBe(0);
    const again = await exportWith(["--format", "fastlane", "--secret-id", secretId, "--out", out], aws.env, [key]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("unchanged (already this key)");
    expectKeyFile(join(out, `AuthKey_${TEAM.keyId}.p8`), key);
  });
});

test("no format prints the key, nor appends it to GITHUB_ENV, when it arrives in the environment", async () => {
  // The key arrives in the environment (base64); none of it comes back out of any format.
  const key = generateTestKey();
  for (const format of FORMATS) {
    const githubEnv = join(tempDir("gh"), "github_env");
    writeFileSync(githubEnv, "");
    const result = await exportWith(
      ["--format", format, "--key-env", "ASC_TEST_KEY", "--key-id", TEAM.keyId, "--issuer-id", TEAM.issuerId, "--out", join(tempDir("out"), "k")],
      { ASC_TEST_KEY: key.pem.replace(/\n/g, "\\n"), GITHUB_ENV: githubEnv, RUNNER_TEMP: tempDir("rt") },
      [key],
    );
    expect({ format, code: result.code }).toEqual({ format, code: 0 });
    expectClean({ stdout: result.stdout + readFileSync(githubEnv, "utf8"), stderr: result.stderr }, [key]);
  }
});

test("the variables github and env hand the next step are read back by the CLI itself with no flags (same fingerprint)", async () => {
  const key = generateTestKey();
  const secretId = await aws.createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId));
  const githubEnv = join(tempDir("gh"), "github_env");
  writeFileSync(githubEnv, "");
  const exported = await exportWith(["--format", "github", "--secret-id", secretId, "--out", join(tempDir("out"), "k")], { ...aws.env, GITHUB_ENV: githubEnv }, [key]);
  expect(exported.code).toBe(0);
  // Every convention's variables at once, as a later step sees them: they agree, so no
  // "two sources disagree" error, and no AWS access is needed.
  const nextStep = Object.fromEntries(parseAssignments(readFileSync(githubEnv, "utf8"), false));
  const fingerprint = await runCli(["fingerprint"], { HOME: tempDir("home"), ...nextStep });
  expect({ code: fingerprint.code, stdout: fingerprint.stdout, stderr: fingerprint.stderr }).toEqual({ code: 0, stdout: `${parsePrivateKey(key.pem).fingerprint}\n`, stderr: "" });
  expectClean(fingerprint, [key]);
});
