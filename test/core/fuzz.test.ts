/**
 * Property-based fuzzing of the key parser and the validator: random damage to valid keys in
 * every form, and random input. Whatever happens, the only thing thrown is an
 * AscCredentialError with a KEY_* code, no message echoes key material, and anything accepted
 * is the original key (damage never turns into a different key).
 */
import fc from "fast-check";
import { AscCredentialError, parsePrivateKey, validateCredential, type CredentialInput } from "../../src/core";
import { containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";

// The budget is a count of inputs per property (FUZZ_RUNS=20000 for a deep run); a pathological
// input (a backtracking regex) shows as a jest timeout. The seed is printed on failure, so a
// counterexample can be replayed and kept as a regular test.
const RUNS = Number(process.env.FUZZ_RUNS ?? 600);
const KEY_CODES = new Set(["KEY_EMPTY", "KEY_MALFORMED", "KEY_ENCRYPTED", "KEY_IS_PUBLIC", "KEY_NOT_EC", "KEY_WRONG_CURVE", "KEY_AMBIGUOUS"]);

const keys: TestKey[] = [generateTestKey(), generateTestKey()];
const fingerprints = keys.map((k) => parsePrivateKey(k.pem).fingerprint);

/** Parses `input` and checks the outcome is one of the two allowed ones. */
function checkParse(input: string | Uint8Array, keyIndex: number): void {
  const key = keys[keyIndex]!;
  let result: ReturnType<typeof parsePrivateKey>;
  try {
    result = parsePrivateKey(input);
  } catch (error) {
    if (!(error instanceof AscCredentialError)) throw new Error(`parsePrivateKey threw a ${(error as Error)?.constructor?.name}: ${String(error)}`, { cause: error });
    expect(KEY_CODES.has(error.code)).toBe(true);
    expect(error.field).toBe("privateKey");
    expect(error.message).toContain("privateKey");
    for (const k of keys) expect(containsKeyMaterial(error.message, k)).toBe(false);
    return;
  }
  // Accepted: then it must be the original key, never a damaged variant of it.
  expect(result.fingerprint).toBe(fingerprints[keyIndex]);
  expect(result.pem).toBe(key.keyObject.export({ type: "pkcs8", format: "pem" }).toString());
}

const textForms = (k: TestKey): string[] => [k.pem, k.sec1Pem, Buffer.from(k.pem).toString("base64"), k.der.toString("base64"), k.der.toString("base64url"), k.pem.replace(/\n/g, "\\n")];
const TEXT_FORM_COUNT = textForms(keys[0]!).length;

// Characters damage tends to introduce: base64 alphabet, line ends, PEM punctuation, quotes, odd unicode.
const damageChar = fc.constantFrom(..."AZaz09+/=-_ \n\r\t\\\"'!:.\u2014\u00e9\uFEFF\0");
const damageText = fc.array(damageChar, { minLength: 1, maxLength: 8 }).map((cs) => cs.join(""));

type TextMutation = { kind: "replace" | "insert" | "delete" | "truncate"; at: number; length: number; text: string };
const textMutation: fc.Arbitrary<TextMutation> = fc.record({
  kind: fc.constantFrom("replace", "insert", "delete", "truncate"),
  at: fc.nat(),
  length: fc.integer({ min: 1, max: 40 }),
  text: damageText,
});
function applyText(source: string, m: TextMutation): string {
  const at = m.at % (source.length + 1);
  switch (m.kind) {
    case "replace":
      return source.slice(0, at) + m.text + source.slice(at + m.text.length);
    case "insert":
      return source.slice(0, at) + m.text + source.slice(at);
    case "delete":
      return source.slice(0, at) + source.slice(at + m.length);
    case "truncate":
      return source.slice(0, at);
  }
}

type ByteMutation = { kind: "flip" | "set" | "insert" | "delete" | "truncate"; at: number; value: number; bytes: Uint8Array; length: number };
const byteMutation: fc.Arbitrary<ByteMutation> = fc.record({
  kind: fc.constantFrom("flip", "set", "insert", "delete", "truncate"),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  length: fc.integer({ min: 1, max: 16 }),
});
function applyBytes(source: Buffer, m: ByteMutation): Uint8Array {
  const at = m.at % (source.length + 1);
  const out = Buffer.from(source);
  switch (m.kind) {
    case "flip":
      if (at < out.length) out[at] = out[at]! ^ (1 << m.value % 8);
      return new Uint8Array(out);
    case "set":
      if (at < out.length) out[at] = m.value;
      return new Uint8Array(out);
    case "insert":
      return new Uint8Array(Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]));
    case "delete":
      return new Uint8Array(Buffer.concat([out.subarray(0, at), out.subarray(at + m.length)]));
    case "truncate":
      return new Uint8Array(out.subarray(0, at));
  }
}

describe("parsePrivateKey under random damage", () => {
  it("damaged text forms (PEM, SEC1, base64 of PEM/DER, escaped) are rejected with a KEY_* error or read as the original key", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: keys.length - 1 }), fc.integer({ min: 0, max: TEXT_FORM_COUNT - 1 }), fc.array(textMutation, { minLength: 1, maxLength: 3 }), (keyIndex, form, mutations) => {
        const input = mutations.reduce(applyText, textForms(keys[keyIndex]!)[form]!);
        checkParse(input, keyIndex);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it("damaged DER bytes (PKCS#8 and SEC1) are rejected with a KEY_* error or read as the original key", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: keys.length - 1 }), fc.boolean(), fc.array(byteMutation, { minLength: 1, maxLength: 3 }), (keyIndex, sec1, mutations) => {
        const key = keys[keyIndex]!;
        const der = sec1 ? Buffer.from(key.sec1Pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64") : key.der;
        const damaged = mutations.reduce<Uint8Array>((bytes, m) => applyBytes(Buffer.from(bytes), m), new Uint8Array(der));
        checkParse(damaged, keyIndex);
        checkParse(Buffer.from(damaged).toString("base64"), keyIndex);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it("every single-byte change inside the private scalar is caught (exhaustive over positions)", () => {
    const key = keys[0]!;
    for (let at = 36; at < 68; at++) {
      const damaged = Buffer.from(key.der);
      damaged[at] = damaged[at]! ^ 0x10;
      expect(() => parsePrivateKey(new Uint8Array(damaged))).toThrow(AscCredentialError);
    }
  });
});

describe("parsePrivateKey on arbitrary input", () => {
  it("random strings only ever produce a KEY_* AscCredentialError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 300 }), fc.string({ unit: "grapheme-ascii", maxLength: 300 }), fc.base64String({ maxLength: 400 })), (input) => checkParse(input, 0)),
      { numRuns: RUNS },
    );
  });
  it("random PEM-armoured base64 only ever produces a KEY_* AscCredentialError", () => {
    const label = fc.constantFrom("PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "PUBLIC KEY", "CERTIFICATE", "RSA PRIVATE KEY", "PGP MESSAGE", "X");
    fc.assert(
      fc.property(label, fc.uint8Array({ maxLength: 200 }), fc.boolean(), (l, bytes, withEnd) => {
        checkParse(`-----BEGIN ${l}-----\n${Buffer.from(bytes).toString("base64")}\n${withEnd ? `-----END ${l}-----\n` : ""}`, 0);
      }),
      { numRuns: RUNS },
    );
  });
  it("random byte arrays, including DER-looking ones, only ever produce a KEY_* AscCredentialError", () => {
    const derLike = fc.tuple(fc.uint8Array({ maxLength: 160 })).map(([b]) => new Uint8Array([0x30, b.length & 0x7f, ...b]));
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), derLike), (bytes) => checkParse(bytes, 0)), { numRuns: RUNS });
  });
});

describe("validateCredential never throws", () => {
  const keyField = fc.oneof(
    fc.constant(keys[0]!.pem),
    fc.string({ maxLength: 80 }),
    fc.uint8Array({ maxLength: 80 }),
    fc.tuple(fc.constant(keys[0]!.pem), textMutation).map(([pem, m]) => applyText(pem, m)),
    fc.anything(),
  );
  const idField = fc.oneof(fc.constant(TEAM.keyId), fc.constant(TEAM.issuerId), fc.string({ maxLength: 40 }), fc.constant(keys[0]!.pem), fc.anything());
  it("for random credentials, and reports each issue on a field without key material", () => {
    fc.assert(
      fc.property(
        fc.record({ keyId: idField, issuerId: idField, privateKey: keyField, keyType: fc.oneof(fc.constantFrom("team", "individual", undefined), fc.anything()), privateKeyFileName: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 30 }).map((s) => `AuthKey_${s}.p8`), fc.anything()) }, { requiredKeys: [] }),
        (credential) => {
          const result = validateCredential(credential as unknown as CredentialInput);
          expect(result.ok).toBe(result.issues.length === 0);
          for (const issue of result.issues) {
            expect(["keyId", "issuerId", "privateKey", "keyType"]).toContain(issue.field);
            expect(issue.message).toContain(issue.field);
            expect(containsKeyMaterial(issue.message, keys[0]!)).toBe(false);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
  it("for random non-object values", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(validateCredential(value as CredentialInput).ok).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });
});
