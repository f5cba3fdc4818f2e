import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from "node:crypto";
import { parsePrivateKey } from "../../src/core";
import { acceptedForms, containsKeyMaterial, generateTestKey, pemBlock, type TestKey } from "../support/keys";
import { armor, expectActionable, expectedFingerprint, leaksRunOf, openPgpSymmetricFile, selfSignedCertificateDer, thrownBy, toPem } from "./helpers";

const key = generateTestKey();
const other = generateTestKey();

/** PKCS#8 PEM exactly as the contract says: LF only, 64-column body lines, trailing newline. */
function expectCanonicalPem(pem: string): void {
  expect(pem).not.toContain("\r");
  expect(pem.endsWith("-----END PRIVATE KEY-----\n")).toBe(true);
  const lines = pem.slice(0, -1).split("\n");
  expect(lines[0]).toBe(pemBlock("PRIVATE KEY", "").split("\n")[0]);
  const body = lines.slice(1, -1);
  expect(body.length).toBeGreaterThan(0);
  body.slice(0, -1).forEach((line) => expect(line).toMatch(/^[A-Za-z0-9+/]{64}$/));
  expect(body[body.length - 1]).toMatch(/^[A-Za-z0-9+/]{1,64}={0,2}$/);
  // And it really is PKCS#8: node reads it as such.
  expect(createPrivateKey({ key: pem, format: "pem" }).asymmetricKeyType).toBe("ec");
}

describe("parsePrivateKey: every accepted form maps to one canonical key", () => {
  const forms = acceptedForms(key);
  const expectedPem = key.keyObject.export({ type: "pkcs8", format: "pem" }).toString();
  const fingerprint = expectedFingerprint(createPublicKey(key.keyObject));

  it.each(Object.keys(forms))("%s", (name) => {
    const parsed = parsePrivateKey(forms[name]!);
    expect(parsed.pem).toBe(expectedPem);
    expect(parsed.fingerprint).toBe(fingerprint);
    expect(parsed.publicKeyPem).toBe(key.publicKeyPem);
    expect(parsed.curve).toBe("P-256");
  });

  it("the canonical PEM is PKCS#8, LF, 64 columns, with a trailing newline, and round-trips", () => {
    const parsed = parsePrivateKey(forms.allOnOneLine!);
    expectCanonicalPem(parsed.pem);
    expect(parsePrivateKey(parsed.pem)).toEqual(parsed);
  });

  it("the fingerprint is sha256 over the SPKI DER, lowercase hex, and differs between keys", () => {
    expect(parsePrivateKey(key.pem).fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(parsePrivateKey(other.pem).fingerprint).toBe(expectedFingerprint(createPublicKey(other.keyObject)));
    expect(parsePrivateKey(other.pem).fingerprint).not.toBe(fingerprint);
  });

  it("a SEC1 key without its optional public key and with an EC PARAMETERS block (openssl ecparam -genkey) still maps to the same key", () => {
    const d = Buffer.from(key.keyObject.export({ format: "jwk" }).d!, "base64url");
    const p256 = Buffer.from("06082a8648ce3d030107", "hex");
    const inner = Buffer.concat([Buffer.from([0x02, 0x01, 0x01, 0x04, 0x20]), d, Buffer.from([0xa0, p256.length]), p256]);
    const sec1NoPublic = Buffer.concat([Buffer.from([0x30, inner.length]), inner]);
    const withParameters = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + toPem("EC PRIVATE KEY", sec1NoPublic);
    expect(parsePrivateKey(withParameters).pem).toBe(expectedPem);
    expect(parsePrivateKey(new Uint8Array(sec1NoPublic)).fingerprint).toBe(fingerprint);
  });

  it("nothing in the result but pem carries the private number", () => {
    // containsKeyMaterial would also flag publicKeyPem: PKCS#8 embeds the public point, so the
    // check here is on the private scalar d in each encoding.
    const parsed = parsePrivateKey(key.pem);
    const d = Buffer.from(key.keyObject.export({ format: "jwk" }).d!, "base64url");
    const visible = parsed.fingerprint + parsed.publicKeyPem + parsed.curve;
    for (const encoding of [d.toString("hex"), d.toString("base64"), d.toString("base64url")]) expect(leaksRunOf(visible, encoding)).toBe(false);
    expect(containsKeyMaterial(parsed.fingerprint, key)).toBe(false);
    // Control: d starts at DER offset 36 (a multiple of 3), so its base64 does show in the PEM.
    expect(leaksRunOf(parsed.pem, d.toString("base64"))).toBe(true);
  });
});

/** Secret strings of any key, for keys that are not P-256 TestKeys. */
function secretsOf(k: KeyObject): string[] {
  const der = k.export({ type: "pkcs8", format: "der" });
  return [k.export({ type: "pkcs8", format: "pem" }).toString(), der.toString("base64"), der.toString("base64url")];
}
const secretsOfTestKey = (k: TestKey): string[] => [k.pem, k.sec1Pem, Buffer.from(k.pem).toString("base64"), k.der.toString("base64"), k.der.toString("base64url")];

function expectKeyError(input: unknown, code: string, seen: RegExp, secrets: string[] = secretsOfTestKey(key)): void {
  const error = thrownBy(() => parsePrivateKey(input as string));
  expectActionable(error, { code: code as never, field: "privateKey", seen, secrets });
  expect(containsKeyMaterial(error.message, key)).toBe(false);
}

describe("parsePrivateKey: KEY_EMPTY", () => {
  it.each([
    ["empty string", ""],
    ["only whitespace", "  \n\t \r\n"],
    ["only quotes", '""'],
    ["only a BOM", "\uFEFF"],
    ["an unset CI variable rendered as quoted spaces", "'   '"],
  ])("%s", (_name, input) => expectKeyError(input, "KEY_EMPTY", /empty/));

  it("empty bytes", () => expectKeyError(new Uint8Array(0), "KEY_EMPTY", /empty/));
});

describe("parsePrivateKey: KEY_MALFORMED", () => {
  const body = key.pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  const lines = key.pem.split("\n");

  it("garbage text", () => expectKeyError("this is definitely not a key!", "KEY_MALFORMED", /not a PEM key, base64 or DER/));
  it("a Key ID pasted into privateKey", () => expectKeyError("2X9R4HXF34", "KEY_MALFORMED", /not a readable private key|base64/));
  it("a PEM cut short (no END line)", () => expectKeyError(key.pem.slice(0, 120), "KEY_MALFORMED", /no '-----END PRIVATE KEY-----' line/));
  it("a PEM missing its last body line", () => {
    const cut = [lines[0], lines[1], lines[2], lines[lines.length - 2], ""].join("\n");
    expectKeyError(cut, "KEY_MALFORMED", /truncated or corrupted|wrong length/);
  });
  it("a PEM body with non-base64 characters", () => {
    const damaged = key.pem.replace(lines[1]!, lines[1]!.slice(0, 20) + "#!" + lines[1]!.slice(22));
    expectKeyError(damaged, "KEY_MALFORMED", /not base64/);
  });
  it("a PEM body with one base64 character changed inside the private number (still valid base64)", () => {
    // Character 60 of the body encodes DER byte 45, inside the 32-byte private scalar.
    const swapped = body[60] === "A" ? "B" : "A";
    const damagedBody = body.slice(0, 60) + swapped + body.slice(61);
    const damaged = pemBlock("PRIVATE KEY", damagedBody.replace(/(.{64})/g, "$1\n"));
    expectKeyError(damaged, "KEY_MALFORMED", /do not match|corrupted/);
  });
  it("a PEM body with a character changed in the DER structure", () => {
    const damagedBody = "N" + body.slice(1);
    expectKeyError(pemBlock("PRIVATE KEY", damagedBody), "KEY_MALFORMED", /truncated or corrupted/);
  });
  it("base64 of the PEM file cut short (length not a base64 length)", () => {
    const b64 = Buffer.from(key.pem).toString("base64");
    const cut = b64.slice(0, b64.length % 4 === 1 ? b64.length - 4 : 4 * 30 + 1);
    expectKeyError(cut, "KEY_MALFORMED", /does not decode/);
  });
  it("base64 of the DER cut short", () => expectKeyError(key.der.toString("base64").slice(0, 80), "KEY_MALFORMED", /truncated or corrupted/));
  it("raw DER bytes cut short", () => expectKeyError(new Uint8Array(key.der.subarray(0, 100)), "KEY_MALFORMED", /truncated or corrupted/));
  it("raw DER bytes with bytes appended are read as the intact key they start with (pinned behaviour)", () => {
    // OpenSSL reads the first DER object; the key itself is undamaged, so it is not rejected.
    expect(parsePrivateKey(new Uint8Array(Buffer.concat([key.der, Buffer.from([0xff, 0x00, 0x13])]))).fingerprint).toBe(parsePrivateKey(key.pem).fingerprint);
  });
  it("the BEGIN line's dashes turned into long dashes by a chat tool", () => {
    expectKeyError(key.pem.replace(/-----/g, "\u2014\u2013"), "KEY_MALFORMED", /dashes/);
  });
  it("the BEGIN line deleted", () => expectKeyError(lines.slice(1).join("\n"), "KEY_MALFORMED", /no BEGIN PRIVATE KEY line/));
  it("an OpenSSH private key", () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const fake = toPem("OPENSSH PRIVATE KEY", privateKey.export({ type: "pkcs8", format: "der" }));
    expectKeyError(fake, "KEY_MALFORMED", /OpenSSH key/, secretsOf(privateKey));
  });
  it("base64 of a text that is not a PEM", () => expectKeyError(Buffer.from("just some notes about the key").toString("base64"), "KEY_MALFORMED", /base64 of some text that is not a PEM key/));
  it("a whole file instead of the key", () => expectKeyError("A".repeat(70_000), "KEY_MALFORMED", /more than 65536 characters long/));
  it.each([
    ["null", null],
    ["a number", 42],
    ["an object", { pem: "x" }],
    ["an array", [1, 2, 3]],
  ])("a value of the wrong type (%s)", (_name, value) => expectKeyError(value, "KEY_MALFORMED", /must be a string or bytes, but a value of type/));
});

describe("parsePrivateKey: KEY_ENCRYPTED", () => {
  it("an ENCRYPTED PRIVATE KEY (password-protected PKCS#8)", () => {
    const encrypted = key.keyObject.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "hunter2" }).toString();
    expectKeyError(encrypted, "KEY_ENCRYPTED", /password-protected key \(BEGIN ENCRYPTED PRIVATE KEY\)/, [encrypted, ...secretsOfTestKey(key)]);
  });
  it("an encrypted PKCS#8 as raw DER bytes", () => {
    const encrypted = key.keyObject.export({ type: "pkcs8", format: "der", cipher: "aes-256-cbc", passphrase: "hunter2" });
    expectKeyError(new Uint8Array(encrypted), "KEY_ENCRYPTED", /password-protected/, [encrypted.toString("base64")]);
  });
  it("a traditional OpenSSL encrypted SEC1 key (Proc-Type: 4,ENCRYPTED)", () => {
    const encrypted = key.keyObject.export({ type: "sec1", format: "pem", cipher: "aes-128-cbc", passphrase: "hunter2" }).toString();
    expect(encrypted).toContain("Proc-Type: 4,ENCRYPTED");
    expectKeyError(encrypted, "KEY_ENCRYPTED", /Proc-Type: 4,ENCRYPTED/, [encrypted]);
  });
  it("an ASCII-armored OpenPGP message (BEGIN PGP MESSAGE)", () => {
    const armored = armor(openPgpSymmetricFile());
    expectKeyError(armored, "KEY_ENCRYPTED", /OpenPGP-encrypted message/, [armored]);
    expect(thrownBy(() => parsePrivateKey(armored)).message).toMatch(/gpg --decrypt/);
  });
  it("a binary .p8.gpg file (SKESK v4 + SEIPD packets, as gpg --symmetric writes)", () => {
    const file = openPgpSymmetricFile();
    expectKeyError(new Uint8Array(file), "KEY_ENCRYPTED", /binary OpenPGP-encrypted data/, [file.toString("base64")]);
  });
  it("a .p8.gpg file base64-encoded into a CI secret", () => {
    expectKeyError(openPgpSymmetricFile().toString("base64"), "KEY_ENCRYPTED", /OpenPGP/);
  });
});

describe("parsePrivateKey: KEY_IS_PUBLIC", () => {
  const publicKey = createPublicKey(key.keyObject);
  const spkiDer = publicKey.export({ type: "spki", format: "der" });
  const certDer = selfSignedCertificateDer(key.keyObject, publicKey);

  it("the helper's certificate is a real self-signed X.509 certificate", () => {
    const cert = new X509Certificate(certDer);
    expect(cert.verify(publicKey)).toBe(true);
    expect(cert.subject).toContain("asc-credential test");
  });
  it("an SPKI PEM (BEGIN PUBLIC KEY)", () => expectKeyError(key.publicKeyPem, "KEY_IS_PUBLIC", /public key \(BEGIN PUBLIC KEY\)/));
  it("an SPKI DER as raw bytes", () => expectKeyError(new Uint8Array(spkiDer), "KEY_IS_PUBLIC", /public key or certificate/));
  it("an SPKI DER as base64", () => expectKeyError(spkiDer.toString("base64"), "KEY_IS_PUBLIC", /public key or certificate/));
  it("a certificate PEM", () => expectKeyError(toPem("CERTIFICATE", certDer), "KEY_IS_PUBLIC", /certificate \(BEGIN CERTIFICATE\)/));
  it("a certificate DER", () => expectKeyError(new Uint8Array(certDer), "KEY_IS_PUBLIC", /public key or certificate/));
  it("a P-384 public key is still 'public', not 'wrong curve'", () => {
    const p384 = createPublicKey(generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey);
    expectKeyError(new Uint8Array(p384.export({ type: "spki", format: "der" })), "KEY_IS_PUBLIC", /public key/);
  });
});

describe("parsePrivateKey: KEY_NOT_EC", () => {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const ed25519 = generateKeyPairSync("ed25519").privateKey;
  it("an RSA key in PKCS#8 PEM", () => expectKeyError(rsa.export({ type: "pkcs8", format: "pem" }), "KEY_NOT_EC", /an RSA private key/, secretsOf(rsa)));
  it("an RSA PRIVATE KEY (PKCS#1) PEM", () => expectKeyError(rsa.export({ type: "pkcs1", format: "pem" }), "KEY_NOT_EC", /RSA private key \(BEGIN RSA PRIVATE KEY\)/, [rsa.export({ type: "pkcs1", format: "pem" }).toString()]));
  it("an RSA PKCS#1 DER as base64", () => {
    const der = rsa.export({ type: "pkcs1", format: "der" });
    expectKeyError(der.toString("base64"), "KEY_NOT_EC", /RSA private key/, [der.toString("base64")]);
  });
  it("an Ed25519 key", () => expectKeyError(ed25519.export({ type: "pkcs8", format: "pem" }), "KEY_NOT_EC", /Ed25519/, secretsOf(ed25519)));
  it("an Ed25519 key as raw DER", () => expectKeyError(new Uint8Array(ed25519.export({ type: "pkcs8", format: "der" })), "KEY_NOT_EC", /Ed25519/, secretsOf(ed25519)));
});

describe("parsePrivateKey: KEY_WRONG_CURVE", () => {
  const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
  const k1 = generateKeyPairSync("ec", { namedCurve: "secp256k1" }).privateKey;
  const p521 = generateKeyPairSync("ec", { namedCurve: "P-521" }).privateKey;
  it("P-384 in PKCS#8 PEM", () => expectKeyError(p384.export({ type: "pkcs8", format: "pem" }), "KEY_WRONG_CURVE", /P-384/, secretsOf(p384)));
  it("secp256k1 in SEC1 PEM", () => expectKeyError(k1.export({ type: "sec1", format: "pem" }), "KEY_WRONG_CURVE", /secp256k1/, [k1.export({ type: "sec1", format: "pem" }).toString()]));
  it("P-521 as raw DER", () => expectKeyError(new Uint8Array(p521.export({ type: "pkcs8", format: "der" })), "KEY_WRONG_CURVE", /P-521/, secretsOf(p521)));
});

describe("the leak check itself", () => {
  it("detects a 12-character run of the key body and ignores unrelated text", () => {
    const body = key.pem.split("\n")[2]!;
    expect(leaksRunOf(`oops ${body.slice(10, 22)} oops`, key.pem)).toBe(true);
    expect(containsKeyMaterial(`oops ${body.slice(8, 20)} oops`, key)).toBe(true);
    expect(leaksRunOf("privateKey is empty. Use the AuthKey_<KEYID>.p8 file", key.pem)).toBe(false);
  });
});
