/**
 * redact: the one rule deciding what of a user's (or a server's) value may be shown, shared by
 * every message, the CLI's --json and the probe provider's choice of naming a failing property.
 */
import { checkIssuerId, checkKeyId } from "../../src/core/identifiers";
import { isSafeToPrint, quote, redact } from "../../src/core/redact";
import { containsKeyMaterial, generateTestKey, pemBlock } from "../support/keys";

const key = generateTestKey();
const bodyLine = key.pem.split("\n")[1]!;

describe("redact keeps what ordinary values look like", () => {
  it.each([
    ["a Key ID", "2X9R4HXF34"],
    ["a lower-case Key ID", "2x9r4hxf34"],
    ["an Issuer ID", "57246542-96fe-1a63-e053-0824d011072a"],
    ["a key name", "pricing-automation"],
    ["a name with spaces", "CI key for pricing"],
    ["an e-mail", "me@example.com"],
    ["a bundle ID", "com.example.app"],
    ["Apple's key file name", "AuthKey_2X9R4HXF34.p8"],
    ["a path to it", "/home/alice/Downloads/AuthKey_2X9R4HXF34 (1).p8"],
    ["a temp directory", "/tmp/asc-credential-test-Xy12Ab/private_keys"],
    ["a variable name", "APP_STORE_CONNECT_PRIVATE_KEY_PATH"],
    ["a role ARN with an SSO role", "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_0123"],
    ["a secret ARN", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:app-store-connect/ci-20300102-AbCdEf"],
    ["a URL", "https://api.appstoreconnect.apple.com/v1/apps?limit=1"],
    ["Apple's error detail", "Provide a properly configured and signed bearer token, and make sure that it has not expired."],
    ["empty", ""],
  ])("%s", (_label, value) => {
    expect(redact(value)).toBe(value);
    expect(isSafeToPrint(value)).toBe(value.length <= 64);
  });
});

describe("redact removes what could be key material or a token", () => {
  it.each([
    ["a 64-character PEM body line", bodyLine],
    ["a 40-character slice of it", bodyLine.slice(10, 50)],
    ["a 12-character run of base64", "MIGHAgEAMBMG"],
    ["a mixed-case run with dashes (base64url)", "abcDEFg-hiJKLmn_opq"],
    ["a PEM header", pemBlock("PRIVATE KEY", "").split("\n")[0]!],
    ["a whole PEM", key.pem],
    ["a key file name around a slice", `AuthKey_${bodyLine.slice(0, 20).replace(/[+/]/g, "A")}.p8`],
    ["a slice after a space", `key ${bodyLine.slice(0, 20).replace(/[+/]/g, "A")}`],
    ["a slice in an e-mail-like value", `${bodyLine.slice(0, 16).replace(/[+/]/g, "A")}@example.com`],
    ["a path whose name is a PEM", `/home/me/${key.pem}`],
    ["base64 of the .p8", Buffer.from(key.pem).toString("base64")],
    ["hex of the DER", key.der.toString("hex")],
    ["a JWT", "eyJhbGciOiJFUzI1NiIsImtpZCI6IjJYOVI0SFhGMzQifQ.eyJpc3MiOiI1NzI0NjU0MiIsImF1ZCI6ImFwcHN0b3JlY29ubmVjdC12MSJ9.c2lnbmF0dXJlLXZhbHVlLXRoYXQtaXMtbG9uZw"],
  ])("%s", (_label, value) => {
    const out = redact(value);
    expect(out).not.toBe(value);
    expect(containsKeyMaterial(out, key)).toBe(false);
    expect(isSafeToPrint(value)).toBe(false);
    expect(redact(out)).toBe(out);
  });
});

test("quote: short safe values in quotes, the rest redacted or described by length", () => {
  expect(quote("pricing-automation")).toBe("'pricing-automation'");
  expect(quote(bodyLine)).toBe("'[64 characters removed]'");
  expect(quote("x".repeat(200))).toBe("(a value of 200 characters)");
  expect(quote("line\nbreak")).toBe("'line?break'");
});

test("the identifier messages quote through it", () => {
  for (const value of ["pricing-automation", "2x9r4hxf34", bodyLine, bodyLine.slice(10, 50)]) {
    const message = checkKeyId(value)[0]!.message;
    expect(message.includes(value)).toBe(redact(value) === value);
    expect(containsKeyMaterial(message, key)).toBe(false);
  }
  for (const value of ["not-an-issuer", bodyLine.slice(0, 40)]) {
    const message = checkIssuerId(value, "team")[0]!.message;
    expect(message.includes(value)).toBe(redact(value) === value);
    expect(containsKeyMaterial(message, key)).toBe(false);
  }
});
