/**
 * isSafeToQuote: the one rule deciding whether a user's value may be shown, shared by core's
 * messages and the probe provider's choice of naming a failing property.
 */
import { checkIssuerId, checkKeyId, isSafeToQuote } from "../../src/core/identifiers";
import { generateTestKey, pemBlock } from "../support/keys";

const key = generateTestKey();
const bodyLine = key.pem.split("\n")[1]!;

describe("isSafeToQuote", () => {
  it.each([
    ["a Key ID", "2X9R4HXF34"],
    ["a lower-case Key ID", "2x9r4hxf34"],
    ["an Issuer ID", "57246542-96fe-1a63-e053-0824d011072a"],
    ["a key name", "pricing-automation"],
    ["a name with spaces", "CI key for pricing"],
    ["an e-mail", "me@example.com"],
    ["a bundle ID", "com.example.app"],
    ["Apple's key file name", "AuthKey_2X9R4HXF34.p8"],
    ["empty", ""],
  ])("is true for %s", (_label, value) => {
    expect(isSafeToQuote(value)).toBe(true);
  });

  it.each([
    ["a 64-character PEM body line", bodyLine],
    ["a 40-character slice of it", bodyLine.slice(10, 50)],
    ["a 12-character run of base64", "MIGHAgEAMBMG"],
    ["a mixed-case run with dashes (base64url)", "abcDEF-ghiJKL_mno"],
    ["a PEM header", pemBlock("PRIVATE KEY", "").split("\n")[0]!],
    ["65 plain characters", "a b".repeat(22).slice(0, 65)],
    ["a slash", "path/to"],
    ["a key file name around a slice", `AuthKey_${bodyLine.slice(0, 20).replace(/[+/]/g, "A")}.p8`],
    ["a slice after a space", `key ${bodyLine.slice(0, 20).replace(/[+/]/g, "A")}`],
    ["a slice in an e-mail-like value", `${bodyLine.slice(0, 16).replace(/[+/]/g, "A")}@example.com`],
  ])("is false for %s", (_label, value) => {
    expect(isSafeToQuote(value)).toBe(false);
  });

  it("is the rule the identifier messages quote by", () => {
    for (const value of ["pricing-automation", "2x9r4hxf34", bodyLine, bodyLine.slice(10, 50)]) {
      const message = checkKeyId(value)[0]!.message;
      expect([value, message.includes(`'${value}'`)]).toEqual([value, isSafeToQuote(value)]);
      expect(message.includes(value)).toBe(isSafeToQuote(value));
    }
    for (const value of ["not-an-issuer", bodyLine.slice(0, 40)]) {
      expect(checkIssuerId(value, "team")[0]!.message.includes(value)).toBe(isSafeToQuote(value));
    }
  });
});
