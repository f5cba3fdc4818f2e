/**
 * redact: the one rule deciding what of a user's (or a server's) value may be shown, shared by
 * every message, the CLI's --json and the probe provider's choice of naming a failing property.
 */
import { checkIssuerId, checkKeyId } from "../../src/core/identifiers";
import fc from "fast-check";
import { isSafeToPrint, quote, redact, redactKnown } from "../../src/core/redact";
import { containsKeyMaterial, generateTestKey, pemBlock } from "../support/keys";

const key = generateTestKey();
const bodyLine = key.pem.split("\n")[1]!;
const pemHeader = key.pem.split("\n")[0]!;

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
    ["macOS's $TMPDIR", "/var/folders/6k/hs2w9w_x0s5fm4y7cnnkjrn40000gn/T/keys"],
    ["macOS's $TMPDIR, another user", "/private/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T/asc-export"],
    ["a variable name", "APP_STORE_CONNECT_PRIVATE_KEY_PATH"],
    ["a role ARN with an SSO role", "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_0123"],
    ["a secret ARN", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:app-store-connect/ci-20300102-AbCdEf"],
    ["a URL", "https://api.appstoreconnect.apple.com/v1/apps?limit=1"],
    ["Apple's error detail", "Provide a properly configured and signed bearer token, and make sure that it has not expired."],
    ["a message naming the PEM header in words", "it has no BEGIN PRIVATE KEY line (BEGIN CERTIFICATE is another file)"],
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
    ["a 12-character run of base64", key.der.toString("base64").slice(0, 12)],
    ["a mixed-case run with dashes (base64url)", "abcDEFg-hiJKLmn_opq"],
    ["a PEM header", pemBlock("PRIVATE KEY", "").split("\n")[0]!],
    ["a whole PEM", key.pem],
    ["a PEM header whose dashes a chat tool made long", "——BEGIN PRIVATE KEY——"],
    ["a PEM header whose first dashes were cut off", key.sec1Pem.split("\n")[0]!.slice(5)],
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

/** The hex digits of `text`, separators dropped: what a reader of a hex dump sees. */
const hexDigits = (text: string): string => text.replace(/0x/gi, "").replace(/[^0-9a-f]/gi, "").toLowerCase();

describe("redact removes hex dumps, whatever separates the bytes", () => {
  const d = Buffer.from(key.keyObject.export({ format: "jwk" }).d ?? "", "base64url").toString("hex");
  const der = key.der.toString("hex");
  const wrap = (hex: string, width: number): string[] => hex.match(new RegExp(`.{1,${width}}`, "g"))!;
  it.each([
    // openssl ec -text -noout: "priv:" then colon-separated bytes, 15 to a line.
    ["openssl ec -text", `priv:\n    ${wrap(d, 30).map((line) => wrap(line, 2).join(":")).join(":\n    ")}\npub:`],
    ["colon-separated bytes", wrap(der, 2).join(":")],
    ["space-separated bytes", wrap(d, 2).join(" ")],
    ["dash-separated bytes", wrap(d, 2).join("-")],
    ["dot-separated groups of 8", wrap(d, 8).join(".")],
    ["xxd (groups of 4, offsets)", wrap(der, 32).map((line, i) => `${(i * 16).toString(16).padStart(8, "0")}: ${wrap(line, 4).join(" ")}`).join("\n")],
    ["hexdump -C (groups of 2, two columns)", wrap(der, 32).map((line) => `${wrap(line.slice(0, 16), 2).join(" ")}  ${wrap(line.slice(16), 2).join(" ")}`).join("\n")],
    ["od -An -tx1", wrap(der, 32).map((line) => ` ${wrap(line, 2).join(" ")}`).join("\n")],
    ["a C array (xxd -i)", wrap(d, 2).map((b) => `0x${b}`).join(", ")],
    ["groups of 4 (fits quote's 80 characters)", wrap(d, 4).join(" ")],
    ["upper-case bytes", wrap(d, 2).join(":").toUpperCase()],
    // JSON.stringify of a Node Buffer, or a bytes list printed by a script.
    ["a Buffer as JSON (decimal bytes)", JSON.stringify(Buffer.from(d, "hex"))],
    ["decimal bytes, space-separated", [...Buffer.from(d, "hex")].join(", ")],
  ])("%s", (_label, value) => {
    const out = redact(value);
    for (let i = 0; i + 12 <= d.length; i++) expect(hexDigits(out)).not.toContain(d.slice(i, i + 12));
    const bytes = [...Buffer.from(d, "hex")];
    for (let i = 0; i + 6 <= bytes.length; i++) expect(out.replace(/\s+/g, "")).not.toContain(bytes.slice(i, i + 6).join(","));
    expect(redact(out)).toBe(out);
    expect(hexDigits(quote(value))).not.toContain(d.slice(0, 12));
  });

  it.each([
    ["a date and time", "2026-12-01 10:00:00"],
    ["a version", "Pulumi 3.276.0 on Node 24.21.0"],
    ["a byte count and a mode", "read 241 bytes (mode 644) in 10 000 ms"],
    ["words spelt with a to f", "a bad dead beef face cafe"],
    ["an IPv4 address and port", "10.0.0.12:8200"],
    ["a short list of numbers", "retries 0, 1, 2, 3 and 10"],
    ["two Key IDs", "ABCD123456 and EF12345678"],
    ["a secret name with a date and a mixed-case suffix", "ci-20300102-AbCdEf"],
    ["an Issuer ID cut short", "57246542-96fe-1a63-e053"],
  ])("keeps %s", (_label, value) => {
    expect(redact(value)).toBe(value);
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

describe("redactKnown removes every piece of a secret it is told about", () => {
  const token = (bytes: Uint8Array[]): string => bytes.map((b) => Buffer.from(b).toString("base64url")).join(".");

  test("a token split into pieces of any width, by any separator, leaves no 12-character run", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 30, maxLength: 200 }), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 12, max: 40 }),
        fc.constantFrom("\n", " ", "\r\n", " / ", "\t"),
        (parts, width, separator) => {
          const jwt = token(parts);
          const pieces = jwt.match(new RegExp(`.{1,${width}}`, "g"))!;
          const text = redactKnown(`Apple said: ${pieces.join(separator)} is not valid`, [jwt]);
          for (let i = 0; i + 12 <= jwt.length; i++) expect(text.includes(jwt.slice(i, i + 12))).toBe(false);
          expect(text).toMatch(/^Apple said: [\s\S]* is not valid$/);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("text without the secrets is what redact leaves; short secrets go where they stand whole", () => {
    const plain = "Provide a properly configured and signed bearer token, and make sure that it has not expired.";
    expect(redactKnown(plain, ["a-secret-that-is-not-there"])).toBe(plain);
    expect(redactKnown(`the pin ab12 failed for ab12`, ["ab12"])).toBe("the pin [secret removed] failed for [secret removed]");
    expect(redactKnown("abc", ["abc"])).toBe("abc");
    expect(redactKnown(bodyLine, [])).toBe(redact(bodyLine));
  });

  test("a secret echoed in another letter case (a URL's host name, a proxy) is removed too", () => {
    const secret = "my-dev-root-token";
    expect(redactKnown("at 'https://my-dev-root-token.example.com' the read failed", ["My-Dev-Root-Token"])).toBe("at 'https://[secret removed].example.com' the read failed");
    expect(redactKnown(`token ${secret.toUpperCase()} refused`, [secret])).toBe("token [secret removed] refused");
    expect(redactKnown(`token ${[...secret.toUpperCase()].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("")} refused`, [secret])).toBe("token [secret removed] refused");
    expect(redactKnown("the pin AB12 failed", ["ab12"])).toBe("the pin [secret removed] failed");
    // Every character keeps its place: letters that lower-case into two do not shift the cut.
    expect(redactKnown("İİ my-dev-root-token İİ", [secret])).toBe("İİ [secret removed] İİ");
  });
});

describe("redactKnown: a secret echoed one escape per character, or in pieces too short to judge, leaves nothing of it", () => {
  const token = (bytes: Uint8Array[]): string => bytes.map((b) => Buffer.from(b).toString("base64url")).join(".");
  const hex = (c: string): string => c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0");
  const ENCODINGS: Record<string, (c: string) => string> = {
    "percent-encoded": (c) => `%${hex(c)}`,
    "JSON \\u escapes": (c) => `\\u00${hex(c).toLowerCase()}`,
    "\\x escapes": (c) => `\\x${hex(c)}`,
    "HTML decimal entities": (c) => `&#${c.charCodeAt(0)};`,
    "HTML hex entities": (c) => `&#x${hex(c)};`,
    "as it is": (c) => c,
  };
  /**
   * The letters and digits of `text` with every escape above decoded. The redaction's own markers
   * count as a break: the "d" of "[secret removed]" beside 11 kept letters of a secret is no leak.
   */
  const decodedLetters = (text: string): string =>
    text
      .replace(/\[(?:secret|token|PEM block|PEM marker|\d+ characters) removed\]/g, "|")
      .replace(/%([0-9A-F]{2})|\\u([0-9a-f]{4})|\\x([0-9A-F]{2})|&#x([0-9A-F]+);|&#([0-9]+);/gi, (_, a?: string, b?: string, c?: string, d?: string, e?: string) =>
        String.fromCharCode(e !== undefined ? Number(e) : parseInt((a ?? b ?? c ?? d)!, 16)),
      )
      .replace(/[^A-Za-z0-9|]/g, "");

  test("every encoding, every piece width from 1, every separator", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 30, maxLength: 120 }), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(...Object.keys(ENCODINGS)),
        fc.constantFrom("", "\n", " ", ", ", "\"", "-", "\\n"),
        (parts, width, encoding, separator) => {
          const jwt = token(parts);
          const encoded = [...jwt].map(ENCODINGS[encoding]!).join("");
          const pieces = jwt.length === 0 ? [] : [...jwt].map(ENCODINGS[encoding]!).reduce<string[]>((all, c, i) => (i % width === 0 ? [...all, c] : [...all.slice(0, -1), all[all.length - 1]! + c]), []);
          for (const text of [encoded, pieces.join(separator)]) {
            const out = redactKnown(`Apple said: ${text} is not valid`, [jwt]);
            const letters = decodedLetters(out);
            const secret = jwt.replace(/[^A-Za-z0-9]/g, "");
            for (let i = 0; i + 12 <= secret.length; i++) expect(letters.includes(secret.slice(i, i + 12))).toBe(false);
            expect(out).toMatch(/^Apple said: [\s\S]* is not valid$/);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  test("ordinary text around a secret stays as it was", () => {
    const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiI1NzI0NjU0MiJ9.Xk3bQ9pZr7LmNwV2cT8yH1aE5uS0dF4gJ6kO3iP9qR2sW7xY1zB4nM8vC5eA0lK6jH3gF2dS9aQ7wE1rT4yU8i";
    const plain = "Provide a properly configured and signed bearer token, and make sure that it has not expired. See %20 and &#38; and \\u0041.";
    expect(redactKnown(plain, [jwt, "f3d9a2b1-77c4-4e0b-9d51-5a2c6e8b1f09"])).toBe(plain);
    expect(redactKnown(`token ${[...jwt].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("")} was refused`, [jwt])).toBe("token [secret removed] was refused");
  });
});

describe("inputs built to make a pattern backtrack: redaction still answers, and is idempotent", () => {
  // Server bodies (up to a megabyte) reach redact; one pattern that backtracks over a long run
  // would block the process for hours, past every timeout. How the time grows with the input is
  // measured in bench/redact.bench.mjs (no timed assertions here).
  const N = 100_000;
  test.each([
    ["a run of dashes", "-".repeat(N)],
    ["a PEM header and then dashes", `${pemHeader}\n${"-".repeat(N)}`],
    ["one base64url run", "a".repeat(N)],
    ["one base64url run with a dot at the end", `${"a".repeat(N)}.b`],
    ["dot-joined runs", "abcdefgh.".repeat(N / 9)],
    ["PEM markers and spaces", `BEGIN${" ".repeat(N)}`],
    ["long dashes, then a marker", `${"—".repeat(N)} BEGIN`],
    ["a marker and spaces before a fence", `BEGIN PRIVATE KEY${" ".repeat(N)}x`],
    ["dashes and spaces", "-- ".repeat(N / 3)],
    ["percent escapes", "%41".repeat(N / 3)],
    ["CamelCase", "Abc".repeat(N / 3)],
  ])("%s", (_label, text) => {
    const once = redact(text);
    expect(redact(once)).toBe(once);
    const known = redactKnown(text, ["eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXZhbHVl"]);
    expect(known.length).toBeLessThanOrEqual(once.length + "[secret removed]".length);
  });
});
