/**
 * The built CLI's key sources and polish, as a process: `--key -` (stdin), pipes that never
 * deliver (bounded), a directory given as the key, the permission warning on every command that
 * reads a key file, the ecosystem's variable names, `--version`, per-command `--help`, and
 * `config --prefix` / `--key-env`.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePrivateKey } from "../../src/core/private-key";
import { run } from "../support/child";
import { containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";
import { CLI, ensureBuilt, runCli, type CliResult } from "./built-cli";

jest.setTimeout(60_000);

let dir: string;
let key: TestKey;
let keyFile: string;
let fingerprint: string;
const team = ["--issuer-id", TEAM.issuerId];

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), "asc-cli-sources-"));
  key = generateTestKey();
  fingerprint = parsePrivateKey(key.pem).fingerprint;
  keyFile = join(dir, `AuthKey_${TEAM.keyId}.p8`);
  writeFileSync(keyFile, key.pem, { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectClean(result: CliResult): void {
  expect(containsKeyMaterial(result.stdout, key)).toBe(false);
  expect(containsKeyMaterial(result.stderr, key)).toBe(false);
}

describe("--key - reads the key from stdin", () => {
  test("fingerprint and token read a piped key", async () => {
    const fp = await runCli(["fingerprint", "--key", "-"], {}, { input: key.pem });
    expect([fp.code, fp.stdout]).toEqual([0, `${fingerprint}\n`]);
    const token = await runCli(["token", "--key", "-", "--key-id", TEAM.keyId, ...team], {}, { input: Buffer.from(key.pem).toString("base64") });
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expectClean(fp);
  });

  test("an empty stdin is KEY_EMPTY, said as such", async () => {
    const result = await runCli(["fingerprint", "--key", "-"], {}, { input: "" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/KEY_EMPTY: .*pipe that delivered nothing/);
  });

  test("a stdin that stays open without data gives up at --read-timeout", async () => {
    // The test holds stdin open and writes nothing: the CLI must not wait for it.
    const child = spawn(process.execPath, [CLI, "fingerprint", "--key", "-", "--read-timeout", "300"], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.stdin.destroy();
    expect(code).toBe(1);
    expect(stderr).toMatch(/SECRET_READ_FAILED: --key - \(stdin\) delivered no key within 300 ms/);
  });
});

describe("named pipes (process substitution, FIFOs)", () => {
  test("a FIFO with no writer does not hang the command: it gives up at --read-timeout, saying why", async () => {
    const fifo = join(dir, "no-writer.fifo");
    expect((await run("mkfifo", [fifo])).code).toBe(0);
    const result = await runCli(["fingerprint", "--key", fifo, "--read-timeout", "300"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/SECRET_READ_FAILED: --key '.*no-writer\.fifo' delivered no key within 300 ms \(a pipe nobody writes to/);
  });

  test("a FIFO whose writer never writes gives up at --read-timeout, for every command", async () => {
    const fifo = join(dir, "stalled.fifo");
    expect((await run("mkfifo", [fifo])).code).toBe(0);
    // A writer that holds the pipe open (non-blocking open of a FIFO for writing needs a reader, so
    // the test opens it read-write to keep it alive).
    const holder = openSync(fifo, "r+");
    try {
      for (const command of [["doctor"], ["token"], ["fingerprint"], ["config"], ["export", "--format", "env", "--out", join(dir, "out-fifo")]]) {
        const result = await runCli([...command, "--key", fifo, "--key-id", TEAM.keyId, ...team, "--read-timeout", "300"]);
        expect([command[0], result.code]).toEqual([command[0], 1]);
        expect(result.stdout + result.stderr).toMatch(/SECRET_READ_FAILED|delivered no key within 300 ms/);
      }
    } finally {
      closeSync(holder);
    }
  });

  test("a FIFO with a writer delivers the key", async () => {
    const fifo = join(dir, "writer.fifo");
    expect((await run("mkfifo", [fifo])).code).toBe(0);
    const writer = spawn("sh", ["-c", `cat "${keyFile}" > "${fifo}"`]);
    const result = await runCli(["fingerprint", "--key", fifo]);
    writer.kill();
    expect([result.code, result.stdout]).toEqual([0, `${fingerprint}\n`]);
  });
});

test("a directory passed as --key gets one clear message", async () => {
  const result = await runCli(["fingerprint", "--key", dir]);
  expect(result.code).toBe(1);
  expect(result.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^asc-credential: SECRET_READ_FAILED: --key '.*' is a directory\. Point it at the AuthKey_<KEYID>\.p8 file itself\.$/), expect.stringMatching(/^fix: /)]);
});

describe("the permission warning appears for every command that reads a key file", () => {
  test.each([["token"], ["fingerprint"], ["config"], ["export", "--format", "env"]])("%s", async (...command) => {
    const open = join(dir, `open-${command[0]}`, `AuthKey_${TEAM.keyId}.p8`);
    mkdirSync(join(dir, `open-${command[0]}`), { recursive: true });
    writeFileSync(open, key.pem, { mode: 0o644 });
    const result = await runCli([...command, "--key", open, ...team, ...(command[0] === "export" ? ["--out", join(dir, `export-${command[0]}`)] : [])]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: the key file '.*' is readable by every user \(mode 644\); fix: chmod 600 /);
    expect(result.stdout).not.toMatch(/warning/);
    expectClean(result);
  });

  test("doctor shows it as a warning check, not a failure", async () => {
    const open = join(dir, "open-doctor.p8");
    writeFileSync(open, key.pem, { mode: 0o640 });
    const result = await runCli(["doctor", "--key", open, "--key-id", TEAM.keyId, ...team]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^WARN\s+key-permissions\s+the key file .* is readable by its group \(mode 640\)/m);
  });
});

describe("the ecosystem's variable names on the way in", () => {
  test("a codemagic-configured shell: APP_STORE_CONNECT_KEY_IDENTIFIER and @file:", async () => {
    const result = await runCli(["doctor", "--json"], { APP_STORE_CONNECT_KEY_IDENTIFIER: TEAM.keyId, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_PRIVATE_KEY: `@file:${keyFile}` });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).credential).toMatchObject({ keySource: "file", keyId: TEAM.keyId, keyIdSource: "env", issuerId: TEAM.issuerId, fingerprint });
  });

  test("fastlane's and EAS's names", async () => {
    for (const env of <Record<string, string>[]>[
      { APP_STORE_CONNECT_API_KEY_KEY_ID: TEAM.keyId, APP_STORE_CONNECT_API_KEY_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_API_KEY_KEY_FILEPATH: keyFile },
      { EXPO_ASC_KEY_ID: TEAM.keyId, EXPO_ASC_ISSUER_ID: TEAM.issuerId, EXPO_ASC_API_KEY_PATH: keyFile },
    ]) {
      const result = await runCli(["token"], env);
      expect(result.code).toBe(0);
    }
  });

  test("two tools' variables naming different keys: an error naming both, exit 1", async () => {
    const result = await runCli(["token"], { APP_STORE_CONNECT_KEY_ID: TEAM.keyId, ASC_KEY_ID: "7MN3QZ8WLP", APP_STORE_CONNECT_PRIVATE_KEY_PATH: keyFile, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/SOURCE_CONFLICT: APP_STORE_CONNECT_KEY_ID is '2X9R4HXF34' but ASC_KEY_ID is '7MN3QZ8WLP'/);
  });

  test("AuthKey_<KEYID>.p8 found in ~/.appstoreconnect/private_keys from the Key ID alone", async () => {
    const home = join(dir, "home");
    mkdirSync(join(home, ".appstoreconnect", "private_keys"), { recursive: true });
    writeFileSync(join(home, ".appstoreconnect", "private_keys", `AuthKey_${TEAM.keyId}.p8`), key.pem, { mode: 0o600 });
    const result = await runCli(["fingerprint"], { HOME: home, APP_STORE_CONNECT_KEY_ID: TEAM.keyId });
    expect([result.code, result.stdout]).toEqual([0, `${fingerprint}\n`]);
  });

  test("the key's text where its path belongs (--key \"$(cat AuthKey_….p8)\", a …_PATH variable): said so, never echoed", async () => {
    const asArgument = [await runCli(["fingerprint", "--key", key.pem]), await runCli(["token", "--key-id", key.pem, "--key", keyFile, ...team])];
    for (const result of asArgument) {
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^asc-credential: an argument holds a private key's text, where a path or a name belongs\. Keys never go on the command line/);
      expect(result.stderr).not.toContain("--key=-");
      expectClean(result);
    }
    const asFlagValue = await runCli(["fingerprint", `--key=${key.pem}`]);
    expect(asFlagValue.stderr).toMatch(/^asc-credential: SECRET_NOT_FOUND: --key '.*' holds the key itself, not the path of a key file\./);
    expectClean(asFlagValue);
    for (const [variable, value, says] of [
      ["APP_STORE_CONNECT_PRIVATE_KEY_PATH", key.pem, "holds the key itself"],
      ["APP_STORE_CONNECT_API_KEY_KEY_FILEPATH", key.pem.replace(/\n/g, "\\n"), "holds the key itself"],
      ["EXPO_ASC_API_KEY_PATH", key.der.toString("base64"), "names no file and looks like key content \\(base64\\)"],
    ]) {
      const result = await runCli(["fingerprint"], { [variable!]: value! });
      expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: "" });
      expect(result.stderr).toMatch(new RegExp(`^asc-credential: SECRET_NOT_FOUND: ${variable} '.*' ${says}, not the path of a key file\\.`));
      expect(result.stderr).toContain("APP_STORE_CONNECT_PRIVATE_KEY");
      expectClean(result);
    }
  });

  test("a key file's path where the key's text belongs (APP_STORE_CONNECT_PRIVATE_KEY=/path/AuthKey_….p8): KEY_MALFORMED naming the path variable", async () => {
    for (const variable of ["APP_STORE_CONNECT_PRIVATE_KEY", "APP_STORE_CONNECT_API_KEY_KEY", "ASC_PRIVATE_KEY"]) {
      const result = await runCli(["fingerprint"], { [variable]: keyFile });
      expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: "" });
      expect(result.stderr).toMatch(new RegExp(`^asc-credential: KEY_MALFORMED: environment variable ${variable}: privateKey is a file path \\('${keyFile}'\\), not the key's contents\\.`));
      expect(result.stderr).toContain("APP_STORE_CONNECT_PRIVATE_KEY_PATH");
    }
  });

  test("doctor with no key anywhere fails its key-source check, naming what to set", async () => {
    const result = await runCli(["doctor"], { HOME: join(dir, "empty-home") });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL\s+key-source\s+no private key was given/m);
  });
});

describe("polish", () => {
  test("--version prints the package version", async () => {
    const result = await runCli(["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${(JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string }).version}\n`);
  });

  test.each(["doctor", "token", "fingerprint", "config", "export"])("%s --help prints its own usage and exits 0", async (command) => {
    const result = await runCli([command, "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: asc-credential ${command} `));
    expect(result.stdout).toContain("--key FILE");
  });

  test("config --prefix names the per-integration config keys; --key-env pipes the variable", async () => {
    const prefixed = await runCli(["config", "--key", keyFile, ...team, "--prefix", "ci"]);
    expect(prefixed.stdout.split("\n").filter((l) => l.startsWith("pulumi "))).toEqual([
      `pulumi config set ciKeyId ${TEAM.keyId}`,
      `pulumi config set issuerId ${TEAM.issuerId}`,
      `pulumi config set --secret ciPrivateKey < ${keyFile}`,
    ]);
    const fromEnv = await runCli(["config", "--key-env", "CI_ASC_KEY", "--key-id", TEAM.keyId, ...team], { CI_ASC_KEY: key.pem });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain("printenv CI_ASC_KEY | pulumi config set --secret privateKey");
    expectClean(prefixed);
    expectClean(fromEnv);
  });

  test("--key-env given the key itself (\"$ASC_KEY\" instead of ASC_KEY): a usage error saying it takes a name", async () => {
    for (const value of [key.der.toString("base64"), key.pem.replace(/\n/g, "\\n").replace(/^-+/, "")]) {
      const result = await runCli(["fingerprint", "--key-env", value]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^asc-credential: --key-env takes the name of the environment variable that holds the key/);
      expectClean(result);
    }
  });

  test("--key-env naming a variable that is not set: KEY_EMPTY saying so", async () => {
    const result = await runCli(["fingerprint", "--key-env", "CI_ASC_KEY"], { CI_ASC_KEY: "  " });
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: "" });
    expect(result.stderr).toMatch(/^asc-credential: KEY_EMPTY: --key-env 'CI_ASC_KEY': the variable 'CI_ASC_KEY' is not set \(or empty\)/);
  });

  test("a key path with line breaks and terminal escapes cannot forge doctor lines, colour the terminal or inject workflow commands", async () => {
    const evil = join(dir, "evil\n\x1b[32mPASS  api              called Apple\x1b[0m\n::add-mask::x\n");
    mkdirSync(evil, { recursive: true });
    const path = join(evil, `AuthKey_${TEAM.keyId}.p8`);
    writeFileSync(path, key.pem, { mode: 0o644 });
    const results = [
      await runCli(["doctor", "--key", path, ...team]),
      await runCli(["fingerprint", "--key", path]),
      await runCli(["token", "--key-id", TEAM.keyId, ...team], { APP_STORE_CONNECT_PRIVATE_KEY_PATH: path, ASC_PRIVATE_KEY: generateTestKey().pem }),
    ];
    for (const result of results) {
      for (const text of [result.stdout, result.stderr]) {
        expect(text).not.toContain("\x1b");
        expect(text).not.toMatch(/^PASS {2}api/m);
        expect(text).not.toMatch(/^::/m);
      }
    }
    expect(results[2]!.stderr).toMatch(/^asc-credential: SOURCE_CONFLICT: /);
  });

  test("a browser-renamed key file works, with a warning naming the name tools expect", async () => {
    const renamed = join(dir, `AuthKey_${TEAM.keyId} (1).p8`);
    writeFileSync(renamed, key.pem, { mode: 0o600 });
    const result = await runCli(["doctor", "--key", renamed, ...team]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^WARN\\s+key-id\\s+${TEAM.keyId} \\(from the file name\\); the file's name is a browser's name for a second download`, "m"));
    expect(result.stdout).toContain(`rename the file to AuthKey_${TEAM.keyId}.p8`);
  });

  test.each([
    ["empty", ""],
    ["relative", "home"],
  ])("export without --out and a HOME that is %s: OUTPUT_INVALID naming HOME, no key under the working directory", async (_what, home) => {
    const cwd = mkdtempSync(join(dir, "cwd-"));
    const result = await runCli(["export", "--format", "env", "--key", keyFile, ...team], { HOME: home }, { cwd });
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: "" });
    expect(result.stderr).toMatch(/^asc-credential: OUTPUT_INVALID: .*HOME.*--out/);
    expect(readdirSync(cwd)).toEqual([]);
    expectClean(result);
  });

  test("export --format github outside a runner: the fix line says where it runs, not to pass --out", async () => {
    const result = await runCli(["export", "--format", "github", "--key", keyFile, ...team], { HOME: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^asc-credential: OUTPUT_INVALID: .*GITHUB_ENV/);
    expect(result.stderr).toMatch(/^fix: run it in a GitHub Actions step/m);
    expect(result.stderr).not.toMatch(/^fix: pass --out/m);
  });

  test("export --format github into a GITHUB_ENV that takes only part of the lines (file size limit): OUTPUT_INVALID, GITHUB_ENV as it was", async () => {
    const githubEnv = join(dir, "github-env-limited");
    const before = "#".repeat(1000);
    writeFileSync(githubEnv, before);
    // bash's `ulimit -f 1` caps files at 1024 bytes; with SIGXFSZ ignored a write past it is short, then EFBIG.
    const script = `trap '' XFSZ; ulimit -f 1; exec "$0" "$@"`;
    const result = await run("bash", ["-c", script, process.execPath, CLI, "export", "--format", "github", "--key", keyFile, ...team, "--out", join(dir, "github-limited-out")], {
      env: { PATH: process.env.PATH ?? "", HOME: dir, GITHUB_ENV: githubEnv },
      timeoutMs: 30_000,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^asc-credential: OUTPUT_INVALID: .*GITHUB_ENV .* could not be written \(EFBIG\)/);
    expect(readFileSync(githubEnv, "utf8")).toBe(before);
    expectClean(result as CliResult);
  });

  test("export --format env writes the key 0600 in a 0700 directory and prints only paths and IDs", async () => {
    const out = join(dir, "exported");
    const result = await runCli(["export", "--format", "env", "--key", keyFile, ...team, "--out", out]);
    expect(result.code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o700);
    const written = join(out, `AuthKey_${TEAM.keyId}.p8`);
    expect(statSync(written).mode & 0o777).toBe(0o600);
    expect(parsePrivateKey(readFileSync(written, "utf8")).fingerprint).toBe(fingerprint);
    expect(result.stdout).toContain(`export APP_STORE_CONNECT_KEY_IDENTIFIER=${TEAM.keyId}\n`);
    expect(result.stdout).toContain(`export APP_STORE_CONNECT_PRIVATE_KEY=@file:${written}\n`);
    expectClean(result);
  });
});
