/**
 * writeKeyFile / writePrivateFiles: 0600 files in a 0700 directory, written atomically, never over
 * another key without `force`, and nothing left behind when a write fails.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePrivateKey } from "../../src/core/private-key";
import { writeKeyFile, writePrivateFiles } from "../../src/runtime/write-key-file";
import { containsKeyMaterial, generateTestKey, TEAM } from "../support/keys";
import { thrown } from "./helpers";

let dir: string;
const key = generateTestKey();
const other = generateTestKey();
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "asc-write-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mode = (path: string): number => statSync(path).mode & 0o777;

test("writes the normalised PEM as AuthKey_<KEYID>.p8, 0600, in a new 0700 directory", () => {
  const target = join(dir, "keys");
  const written = writeKeyFile({ keyId: TEAM.keyId, privateKey: key.pem.replace(/\n/g, "\r\n") }, target);
  expect(written).toEqual({ path: join(target, `AuthKey_${TEAM.keyId}.p8`), written: true });
  expect(mode(target)).toBe(0o700);
  expect(mode(written.path)).toBe(0o600);
  expect(readFileSync(written.path, "utf8")).toBe(parsePrivateKey(key.pem).pem);
  // No temp file left next to it.
  expect(readdirSync(target)).toEqual([`AuthKey_${TEAM.keyId}.p8`]);
});

test("the same key again leaves the file as it is; the same key in another layout is rewritten normalised", () => {
  const target = join(dir, "keys");
  writeKeyFile({ keyId: TEAM.keyId, privateKey: key.pem }, target);
  expect(writeKeyFile({ keyId: TEAM.keyId, privateKey: key.pem }, target).written).toBe(false);
  writeFileSync(join(target, `AuthKey_${TEAM.keyId}.p8`), key.pem.replace(/\n/g, "\r\n"), { mode: 0o600 });
  expect(writeKeyFile({ keyId: TEAM.keyId, privateKey: key.pem }, target).written).toBe(true);
  expect(readFileSync(join(target, `AuthKey_${TEAM.keyId}.p8`), "utf8")).toBe(parsePrivateKey(key.pem).pem);
});

test("another key in the file is refused with OUTPUT_EXISTS unless force", () => {
  const target = join(dir, "keys");
  writeKeyFile({ keyId: TEAM.keyId, privateKey: key.pem }, target);
  const error = thrown(() => writeKeyFile({ keyId: TEAM.keyId, privateKey: other.pem }, target));
  expect(error).toMatchObject({ code: "OUTPUT_EXISTS", message: expect.stringMatching(/already holds something else .* --force/) });
  expect(parsePrivateKey(readFileSync(join(target, `AuthKey_${TEAM.keyId}.p8`), "utf8")).fingerprint).toBe(parsePrivateKey(key.pem).fingerprint);
  writeKeyFile({ keyId: TEAM.keyId, privateKey: other.pem }, target, { force: true });
  expect(parsePrivateKey(readFileSync(join(target, `AuthKey_${TEAM.keyId}.p8`), "utf8")).fingerprint).toBe(parsePrivateKey(other.pem).fingerprint);
  for (const k of [key, other]) expect(containsKeyMaterial(error.message, k)).toBe(false);
});

test("a huge file under the key's name (3 GiB, sparse) is another key's place: OUTPUT_EXISTS, without reading it into memory", () => {
  const target = join(dir, "keys");
  mkdirSync(target, { mode: 0o700 });
  const path = join(target, `AuthKey_${TEAM.keyId}.p8`);
  writeFileSync(path, "", { mode: 0o600 });
  truncateSync(path, 3 * 1024 ** 3);
  const error = thrown(() => writeKeyFile({ keyId: TEAM.keyId, privateKey: key.pem }, target));
  expect(error).toMatchObject({ code: "OUTPUT_EXISTS", message: expect.stringMatching(/already holds something else/) });
  expect(statSync(path).size).toBe(3 * 1024 ** 3);
  writeKeyFile({ keyId: TEAM.keyId, privateKey: key.pem }, target, { force: true });
  expect(readFileSync(path, "utf8")).toBe(parsePrivateKey(key.pem).pem);
});

test.each<[string, (root: string) => string, RegExp]>([
  ["a missing parent", (root) => join(root, "no", "such", "dir"), /its parent .* does not exist/],
  ["a directory others can enter", (root) => (mkdirSync(join(root, "open"), { mode: 0o755 }), chmodSync(join(root, "open"), 0o755), join(root, "open")), /can be entered by other users \(mode 755\).*chmod 700/],
  ["a file where the directory should be", (root) => (writeFileSync(join(root, "file"), "x"), join(root, "file")), /exists and is not a directory/],
  ["a symbolic link", (root) => (mkdirSync(join(root, "real"), { mode: 0o700 }), symlinkSync(join(root, "real"), join(root, "link")), join(root, "link")), /is a symbolic link/],
  ["a path holding key material", (root) => join(root, key.pem.split("\n")[1]!.replace(/\//g, "_")), /does not look like a directory path/],
])("%s is OUTPUT_INVALID, naming it, and nothing is written", (_label, make, message) => {
  const target = make(dir);
  const error = thrown(() => writeKeyFile({ keyId: TEAM.keyId, privateKey: key.pem }, target));
  expect(error).toMatchObject({ code: "OUTPUT_INVALID", message: expect.stringMatching(message) });
  expect(containsKeyMaterial(error.message, key)).toBe(false);
  expect(JSON.stringify(readdirSync(dir, { recursive: true }))).not.toContain("AuthKey_");
});

test("several files: all or nothing (a refused second file removes the first one this call created)", () => {
  const target = join(dir, "bundle");
  mkdirSync(target, { mode: 0o700 });
  writeFileSync(join(target, "api_key.json"), "{}", { mode: 0o600 });
  const error = thrown(() =>
    writePrivateFiles(target, [
      { name: `AuthKey_${TEAM.keyId}.p8`, content: parsePrivateKey(key.pem).pem, sameKeyAs: key.pem },
      { name: "api_key.json", content: '{"key":"x"}' },
    ]),
  );
  expect(error.code).toBe("OUTPUT_EXISTS");
  expect(readdirSync(target)).toEqual(["api_key.json"]);
});
