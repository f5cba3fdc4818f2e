/**
 * The mistakes users make with keys (README "What it checks"): each mangling either gets its
 * specific code or, when it is an accepted form, yields the original key.
 */
import { createToken, parsePrivateKey, validateCredential } from "../../src/core";
import { generateTestKey, TEAM } from "../support/keys";
import { rejectionOf } from "./helpers";

const key = generateTestKey();
const fingerprint = parsePrivateKey(key.pem).fingerprint;
const codesOf = (c: Parameters<typeof validateCredential>[0]): string[] => validateCredential(c).issues.map((i) => i.code);

describe("1. PEM mangled in env vars or CI secrets", () => {
  it.each([
    ["literal \\n escapes (dotenv, JSON-ish variables)", key.pem.replace(/\n/g, "\\n")],
    ["lost newlines (one line)", key.pem.replace(/\n/g, "")],
    ["newlines turned into spaces (YAML folded scalar)", key.pem.replace(/\n/g, " ")],
    ["quotes kept in the value", `"${key.pem.trim()}"`],
    ["single quotes and escapes kept", `'${key.pem.replace(/\n/g, "\\n")}'`],
    ["CRLF (a Windows checkout or editor)", key.pem.replace(/\n/g, "\r\n")],
    ["a BOM from a Windows editor", "\uFEFF" + key.pem],
    ["trailing newline stripped", key.pem.trimEnd()],
  ])("accepted: %s", (_name, input) => {
    expect(parsePrivateKey(input).fingerprint).toBe(fingerprint);
  });
  it("specific code: the key cut off at a line limit (KEY_MALFORMED, says it was cut short)", () => {
    const issue = validateCredential({ ...TEAM, privateKey: key.pem.slice(0, 128) }).issues[0]!;
    expect(issue.code).toBe("KEY_MALFORMED");
    expect(issue.message).toMatch(/cut short/);
  });
  it("specific code: an unset variable (KEY_EMPTY, says to check the variable)", () => {
    const issue = validateCredential({ ...TEAM, privateKey: "" }).issues[0]!;
    expect(issue.code).toBe("KEY_EMPTY");
    expect(issue.message).toMatch(/variable is set/);
  });
});

describe("2. base64 given where raw PEM is expected, or the reverse", () => {
  it.each([
    ["base64 of the .p8 file (base64 -w0)", Buffer.from(key.pem).toString("base64")],
    ["base64 of the .p8 file, wrapped at 76 (macOS base64 -b 76, GitHub secrets pasted)", Buffer.from(key.pem).toString("base64").replace(/(.{76})/g, "$1\n")],
    ["base64 of the DER", key.der.toString("base64")],
    ["the PEM body alone (no BEGIN/END lines)", key.pem.replace(/-----[A-Z ]+-----/g, "").trim()],
    ["base64 of the PEM with literal \\n inside", Buffer.from(key.pem.replace(/\n/g, "\\n")).toString("base64")],
  ])("accepted: %s", (_name, input) => {
    expect(parsePrivateKey(input).fingerprint).toBe(fingerprint);
  });
});

describe("2b. the key file's path given where its contents belong", () => {
  it.each([
    ["a relative path (privateKey: \"./AuthKey_….p8\")", "./AuthKey_2X9R4HXF34.p8"],
    ["the bare file name", "AuthKey_2X9R4HXF34.p8"],
    ["an absolute path without an extension (fits base64's alphabet)", "/run/secrets/asc_key"],
    ["a home path", "~/keys/AuthKey_2X9R4HXF34.p8"],
    ["a Windows path", "C:\\Users\\me\\Downloads\\AuthKey_2X9R4HXF34.p8"],
  ])("KEY_MALFORMED, saying it is a path and where a path goes: %s", (_name, input) => {
    const issue = validateCredential({ ...TEAM, privateKey: input }).issues[0]!;
    expect(issue.code).toBe("KEY_MALFORMED");
    expect(issue.message).toMatch(/^privateKey is a file path \('.+'\), not the key's contents\. .*APP_STORE_CONNECT_PRIVATE_KEY_PATH/);
  });
});

describe("3. lifetime at 20 min plus skew, missing iat", () => {
  it("lifetimes over 1200 s are refused (TOKEN_LIFETIME_INVALID)", async () => {
    expect((await rejectionOf(createToken({ ...TEAM, privateKey: key.pem }, { lifetimeSeconds: 1260 }))).code).toBe("TOKEN_LIFETIME_INVALID");
  });
  it("the default leaves room for skew (900 s) and iat is always present", async () => {
    const payload = JSON.parse(Buffer.from((await createToken({ ...TEAM, privateKey: key.pem })).split(".")[1]!, "base64url").toString());
    expect(typeof payload.iat).toBe("number");
    expect(payload.exp - payload.iat).toBe(900);
  });
});

describe("4. individual key signed with iss", () => {
  it("an Issuer ID on an individual key is ISSUER_ID_FOR_INDIVIDUAL_KEY", () => {
    expect(codesOf({ ...TEAM, privateKey: key.pem, keyType: "individual" })).toEqual(["ISSUER_ID_FOR_INDIVIDUAL_KEY"]);
  });
  it("an individual token has sub 'user' and no iss", async () => {
    const payload = JSON.parse(Buffer.from((await createToken({ keyId: TEAM.keyId, privateKey: key.pem, keyType: "individual" })).split(".")[1]!, "base64url").toString());
    expect(payload.sub).toBe("user");
    expect(payload).not.toHaveProperty("iss");
  });
});

describe("5. Issuer ID confused with other IDs; key name used as key ID", () => {
  it.each([
    ["the Apple Team ID", { issuerId: "ABCDE12345" }, "ISSUER_ID_LOOKS_LIKE_TEAM_ID"],
    ["the Key ID", { issuerId: TEAM.keyId }, "ISSUER_ID_LOOKS_LIKE_TEAM_ID"],
    ["the account e-mail", { issuerId: "owner@example.com" }, "ISSUER_ID_INVALID"],
    ["an App ID (numeric Apple ID)", { issuerId: "1234567890" }, "ISSUER_ID_LOOKS_LIKE_TEAM_ID"],
    ["a bundle ID", { issuerId: "com.example.app" }, "ISSUER_ID_INVALID"],
    ["the key's name as key ID", { keyId: "pricing-automation" }, "KEY_ID_LOOKS_LIKE_NAME"],
    ["the key's name with spaces", { keyId: "Pricing Bot" }, "KEY_ID_LOOKS_LIKE_NAME"],
    ["the Issuer ID as key ID", { keyId: TEAM.issuerId }, "KEY_ID_INVALID"],
  ])("%s", (_name, overrides, code) => {
    expect(codesOf({ ...TEAM, privateKey: key.pem, ...overrides })).toEqual([code]);
  });
});

describe("6. the key file lost or damaged", () => {
  it("a damaged key says how to recover (copy again, or revoke and create a new key)", () => {
    const der = Buffer.from(key.der);
    der[50] = der[50]! ^ 0xff;
    const message = validateCredential({ ...TEAM, privateKey: der.toString("base64") }).issues[0]!.message;
    expect(message).toMatch(/revoke the key in App Store Connect and create a new one/);
  });
});
