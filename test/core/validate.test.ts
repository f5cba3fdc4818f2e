import { generateKeyPairSync } from "node:crypto";
import { createToken, ERROR_CODES, validateCredential, type CredentialInput } from "../../src/core";
import { containsKeyMaterial, generateTestKey, TEAM } from "../support/keys";
import { expectActionable } from "./helpers";

const key = generateTestKey();
const team = (overrides: Partial<CredentialInput> = {}): CredentialInput => ({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem, ...overrides });
const secrets = [key.pem, Buffer.from(key.pem).toString("base64"), key.der.toString("base64")];

/** The single issue on `field`, checked against the message contract. */
function onlyIssue(credential: unknown, field: string, code: string, seen: RegExp): string {
  const result = validateCredential(credential as CredentialInput);
  expect(result.ok).toBe(false);
  const issues = result.issues.filter((i) => i.field === field);
  expect(issues.map((i) => i.code)).toEqual([code]);
  expectActionable(issues[0]!, { code: code as never, field, seen, secrets });
  for (const issue of result.issues) expect(containsKeyMaterial(issue.message, key)).toBe(false);
  return issues[0]!.message;
}

describe("validateCredential: valid credentials", () => {
  it("a team key: ok, no issues, the parsed key", () => {
    const result = validateCredential(team());
    expect(result).toEqual({ ok: true, issues: [], key: expect.objectContaining({ curve: "P-256" }) });
    expect(result.key!.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
  it("an individual key without issuerId", () => {
    expect(validateCredential({ keyId: TEAM.keyId, privateKey: key.pem, keyType: "individual" }).ok).toBe(true);
  });
  it("an upper-case Issuer ID is accepted (hex is case-insensitive)", () => {
    expect(validateCredential(team({ issuerId: TEAM.issuerId.toUpperCase() })).ok).toBe(true);
  });
  it("a matching AuthKey_<ID>.p8 file name, with a path, passes", () => {
    expect(validateCredential(team({ privateKeyFileName: `/home/ci/keys/AuthKey_${TEAM.keyId}.p8` })).ok).toBe(true);
    expect(validateCredential(team({ privateKeyFileName: `C:\\keys\\AuthKey_${TEAM.keyId}.p8` })).ok).toBe(true);
  });
  it("a file name not in Apple's pattern is not cross-checked", () => {
    expect(validateCredential(team({ privateKeyFileName: "asc.p8" })).ok).toBe(true);
  });
});

describe("validateCredential: keyId", () => {
  it("KEY_ID_INVALID: lower-case, with the upper-case hint", () => {
    const message = onlyIssue(team({ keyId: "2x9r4hxf34" }), "keyId", "KEY_ID_INVALID", /'2x9r4hxf34' has lower-case letters/);
    expect(message).toContain("upper-case");
    expect(message).toContain("'2X9R4HXF34'");
  });
  it("KEY_ID_INVALID: 9 characters", () => void onlyIssue(team({ keyId: "2X9R4HXF3" }), "keyId", "KEY_ID_INVALID", /got 9 characters/));
  it("KEY_ID_INVALID: 11 characters", () => void onlyIssue(team({ keyId: "2X9R4HXF345" }), "keyId", "KEY_ID_INVALID", /got 11 characters/));
  it("KEY_ID_INVALID: surrounding whitespace (a copied trailing newline)", () => void onlyIssue(team({ keyId: "2X9R4HXF34\n" }), "keyId", "KEY_ID_INVALID", /leading or trailing whitespace/));
  it("KEY_ID_INVALID: symbols", () => void onlyIssue(team({ keyId: "2X9R4HXF3!" }), "keyId", "KEY_ID_INVALID", /other symbols/));
  it("KEY_ID_INVALID: empty and missing", () => {
    onlyIssue(team({ keyId: "" }), "keyId", "KEY_ID_INVALID", /keyId is empty/);
    onlyIssue({ issuerId: TEAM.issuerId, privateKey: key.pem }, "keyId", "KEY_ID_INVALID", /keyId is missing/);
  });
  it("KEY_ID_INVALID: the PEM pasted into keyId — the message does not repeat it", () => {
    const message = onlyIssue(team({ keyId: key.pem }), "keyId", "KEY_ID_INVALID", /looks like a private key/);
    expect(containsKeyMaterial(message, key)).toBe(false);
    expect(message).not.toContain("BEGIN");
  });
  it("KEY_ID_INVALID: base64 of the key pasted into keyId", () => {
    const b64 = Buffer.from(key.pem).toString("base64");
    const message = onlyIssue(team({ keyId: b64 }), "keyId", "KEY_ID_INVALID", new RegExp(`a value of ${b64.length} characters`));
    expect(containsKeyMaterial(message, key)).toBe(false);
  });
  it("a slice of the key body pasted into keyId or issuerId is not quoted back", () => {
    // The message quotes short plain values; a PEM line without '/' would pass that filter.
    const body = key.pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
    for (const length of [12, 20, 40, 64]) {
      let start = 0;
      while (start + length <= body.length && !/^[A-Za-z0-9]+$/.test(body.slice(start, start + length))) start++;
      const slice = body.slice(start, start + length);
      if (slice.length !== length) continue; // no such window in this key: nothing to check
      for (const field of ["keyId", "issuerId"] as const) {
        const result = validateCredential(team({ [field]: slice }));
        expect(result.ok).toBe(false);
        for (const issue of result.issues) expect(containsKeyMaterial(issue.message, key)).toBe(false);
      }
    }
  });
  it("KEY_ID_INVALID: the Issuer ID in keyId, with the hint to move it", () => {
    const message = onlyIssue(team({ keyId: TEAM.issuerId }), "keyId", "KEY_ID_INVALID", /is a UUID: that is the Issuer ID/);
    expect(message).toMatch(/Put it in issuerId/);
  });
  it.each(["pricing-automation", "Pricing Bot", "ci_upload_key", "fastlane match"])("KEY_ID_LOOKS_LIKE_NAME: %s", (name) => {
    const message = onlyIssue(team({ keyId: name }), "keyId", "KEY_ID_LOOKS_LIKE_NAME", /looks like the key's name/);
    expect(message).toContain(`'${name}'`);
    expect(message).toContain("AuthKey_<KEYID>.p8");
  });
  it("KEY_ID_FILENAME_MISMATCH: the file Apple named after another key", () => {
    const message = onlyIssue(team({ privateKeyFileName: "/Users/me/Downloads/AuthKey_ABCDE12345.p8" }), "keyId", "KEY_ID_FILENAME_MISMATCH", /does not match the key file 'AuthKey_ABCDE12345.p8'/);
    expect(message).toContain("'ABCDE12345'");
  });
});

describe("validateCredential: issuerId", () => {
  it("ISSUER_ID_MISSING: a team key without issuerId (absent, empty, blank)", () => {
    onlyIssue({ keyId: TEAM.keyId, privateKey: key.pem }, "issuerId", "ISSUER_ID_MISSING", /issuerId is missing/);
    onlyIssue(team({ issuerId: "" }), "issuerId", "ISSUER_ID_MISSING", /missing/);
    onlyIssue(team({ issuerId: "   " }), "issuerId", "ISSUER_ID_MISSING", /missing/);
  });
  it("ISSUER_ID_INVALID: the account e-mail, with the hint", () => {
    const message = onlyIssue(team({ issuerId: "dev@example.com" }), "issuerId", "ISSUER_ID_INVALID", /looks like an e-mail address/);
    expect(message).toMatch(/not your Apple Account e-mail/);
  });
  it("ISSUER_ID_INVALID: a UUID cut short", () => void onlyIssue(team({ issuerId: "57246542-96fe-1a63-e053" }), "issuerId", "ISSUER_ID_INVALID", /'57246542-96fe-1a63-e053' is not an Issuer ID/));
  it("ISSUER_ID_INVALID: whitespace around a UUID", () => void onlyIssue(team({ issuerId: ` ${TEAM.issuerId}\n` }), "issuerId", "ISSUER_ID_INVALID", /leading or trailing whitespace/));
  it("ISSUER_ID_INVALID: a bundle ID", () => void onlyIssue(team({ issuerId: "com.example.app" }), "issuerId", "ISSUER_ID_INVALID", /'com.example.app' is not an Issuer ID/));
  it("ISSUER_ID_INVALID: not a string", () => void onlyIssue(team({ issuerId: 12345 as unknown as string }), "issuerId", "ISSUER_ID_INVALID", /type number/));
  it("ISSUER_ID_INVALID: the PEM pasted into issuerId — not repeated", () => {
    const message = onlyIssue(team({ issuerId: key.pem }), "issuerId", "ISSUER_ID_INVALID", /looks like a private key/);
    expect(containsKeyMaterial(message, key)).toBe(false);
  });
  it("ISSUER_ID_LOOKS_LIKE_TEAM_ID: an Apple Team ID", () => void onlyIssue(team({ issuerId: "A1B2C3D4E5" }), "issuerId", "ISSUER_ID_LOOKS_LIKE_TEAM_ID", /an Apple Team ID/));
  it("ISSUER_ID_LOOKS_LIKE_TEAM_ID: the key ID reused as issuer", () => {
    const message = onlyIssue(team({ issuerId: TEAM.keyId }), "issuerId", "ISSUER_ID_LOOKS_LIKE_TEAM_ID", /that is the Key ID/);
    expect(message).toMatch(/UUID/);
  });
  it("ISSUER_ID_FOR_INDIVIDUAL_KEY", () => {
    const message = onlyIssue(team({ keyType: "individual" }), "issuerId", "ISSUER_ID_FOR_INDIVIDUAL_KEY", /issuerId is set, but individual keys carry no Issuer ID/);
    expect(message).toMatch(/sub "user"/);
  });
});

describe("validateCredential: keyType", () => {
  it.each([["Team"], ["admin"], [1], [null]])("KEY_TYPE_INVALID: %p", (keyType) => {
    onlyIssue(team({ keyType: keyType as never }), "keyType", "KEY_TYPE_INVALID", /keyType .*is not a key type/);
  });
});

describe("validateCredential: reports everything at once, never throws", () => {
  it("every bad field has its own issue", () => {
    const result = validateCredential({ keyId: "pricing-automation", issuerId: "dev@example.com", privateKey: key.publicKeyPem });
    expect(result.ok).toBe(false);
    expect(result.issues.map((i) => [i.field, i.code])).toEqual([
      ["keyId", "KEY_ID_LOOKS_LIKE_NAME"],
      ["issuerId", "ISSUER_ID_INVALID"],
      ["privateKey", "KEY_IS_PUBLIC"],
    ]);
    expect(result.key).toBeUndefined();
  });
  it("a mismatched file name and a bad key type are reported next to the other problems", () => {
    const result = validateCredential({ keyId: TEAM.keyId, privateKey: "nope", privateKeyFileName: "AuthKey_ZZZZZ99999.p8", keyType: "enterprise" as never });
    expect(result.issues.map((i) => i.code).sort()).toEqual(["KEY_ID_FILENAME_MISMATCH", "KEY_MALFORMED", "KEY_TYPE_INVALID"]);
  });
  it("a valid key with bad identifiers still returns the key (for the fingerprint) and ok false", () => {
    const result = validateCredential(team({ keyId: "bad" }));
    expect(result.ok).toBe(false);
    expect(result.key?.fingerprint).toMatch(/^sha256:/);
  });
  it("a bad key never yields a partial key", () => {
    expect(validateCredential(team({ privateKey: key.pem.slice(0, 150) })).key).toBeUndefined();
  });
  const odd: [string, unknown][] = [
    ["null", null],
    ["undefined", undefined],
    ["a number", 42],
    ["a string", key.pem],
    ["an array", [key.pem]],
    ["a Date", new Date()],
    ["a function", () => key.pem],
    ["a prototype-less object", Object.create(null)],
    ["symbols and bigints in every field", { keyId: Symbol("k"), issuerId: 10n, privateKey: Symbol("p"), keyType: 5n, privateKeyFileName: Symbol("f") }],
    ["nested objects", { keyId: { toString: () => TEAM.keyId }, issuerId: [TEAM.issuerId], privateKey: { pem: key.pem } }],
    ["a frozen credential", Object.freeze(team({ keyId: "x" }))],
  ];
  it.each(odd)("never throws for %s, and reports issues without key material", (_name, value) => {
    const result = validateCredential(value as CredentialInput);
    expect(result.ok).toBe(false);
    expect(result.issues.length).toBeGreaterThan(0);
    for (const issue of result.issues) {
      expect(issue.message).toContain(issue.field);
      expect(containsKeyMaterial(issue.message, key)).toBe(false);
    }
  });
});

describe("every core error code is reachable from realistic input", () => {
  it("the codes the core owns (not API_*, ROLE_*, READER_*, KMS_*, SECRET_*, SOURCE_*, OUTPUT_*) are all produced by some input here", async () => {
    const seen = new Set<string>();
    const collect = (c: unknown): void => validateCredential(c as CredentialInput).issues.forEach((i) => seen.add(i.code));
    const ed25519 = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" });
    const p384 = generateTestKey("P-384").pem;
    const encrypted = key.keyObject.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "x" });
    [
      team({ privateKey: "" }),
      team({ privateKey: "garbage!" }),
      team({ privateKey: encrypted }),
      team({ privateKey: key.publicKeyPem }),
      team({ privateKey: ed25519 }),
      team({ privateKey: p384 }),
      team({ privateKey: key.pem + generateTestKey().pem }),
      team({ keyId: "2X9R4HXF3" }),
      team({ keyId: "pricing-automation" }),
      team({ privateKeyFileName: "AuthKey_ABCDE12345.p8" }),
      team({ issuerId: undefined }),
      team({ issuerId: "me@example.com" }),
      team({ issuerId: "ABCDE12345" }),
      team({ keyType: "individual" }),
      team({ keyType: "bot" as never }),
    ].forEach(collect);
    for (const options of [{ lifetimeSeconds: 0 }, { scope: ["get /"] }, { now: Date.now() }]) {
      await createToken(team(), options).catch((error: { code: string }) => seen.add(error.code));
    }
    const owned = ERROR_CODES.filter((c) => !/^(API_|ROLE_|READER_|KMS_|SECRET_|SOURCE_|OUTPUT_|VAULT_)/.test(c));
    expect([...seen].sort()).toEqual([...owned].sort());
  });
});
