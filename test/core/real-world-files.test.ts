/**
 * Key files as they turn up after a trip through real tools: re-saved as UTF-16, concatenated with
 * their public key, escaped twice, dumped as hex, padded with NULs, renamed by a browser. Each is
 * accepted when the key is intact, or named for what it is, and no message tells the user to
 * revoke a key that is intact.
 */
import { crc32, gzipSync } from "node:zlib";
import { checkKeyId, keyIdFromFileName, renamedKeyFile } from "../../src/core/identifiers";
import { parsePrivateKey } from "../../src/core/private-key";
import { containsKeyMaterial, generateTestKey, TEAM } from "../support/keys";
import { thrownBy } from "./helpers";

const key = generateTestKey();
const other = generateTestKey();
const canonical = parsePrivateKey(key.pem);

function utf16(text: string, { bom, bigEndian }: { bom: boolean; bigEndian: boolean }): Uint8Array {
  const le = Buffer.from(text, "utf16le");
  const body = bigEndian ? Buffer.from(le).swap16() : le;
  return new Uint8Array(bom ? Buffer.concat([Buffer.from(bigEndian ? [0xfe, 0xff] : [0xff, 0xfe]), body]) : body);
}

describe("accepted: the key is intact", () => {
  it.each([
    ["UTF-16LE with a BOM (PowerShell's > on Windows)", utf16(key.pem, { bom: true, bigEndian: false })],
    ["UTF-16LE without a BOM", utf16(key.pem, { bom: false, bigEndian: false })],
    ["UTF-16BE with a BOM", utf16(key.pem, { bom: true, bigEndian: true })],
    ["UTF-16LE of CRLF text", utf16(key.pem.replace(/\n/g, "\r\n"), { bom: true, bigEndian: false })],
    ["the public key, then the private key", key.publicKeyPem + key.pem],
    ["the private key, then its public key", key.pem + key.publicKeyPem],
    ["the same private key twice", key.pem + key.pem],
  ])("%s", (_label, input) => {
    expect(parsePrivateKey(input)).toEqual(canonical);
  });
});

/** A zip archive holding `name` with `content`, stored uncompressed (as `zip -0` writes it). */
function zipOf(name: string, content: Buffer): Uint8Array {
  const fileName = Buffer.from(name);
  const crc = crc32(content);
  /** Writes the fields both headers hold, from `at` on: version needed, CRC, both sizes, name length. */
  const entry = (header: Buffer, at: number): Buffer => {
    header.writeUInt16LE(10, at);
    header.writeUInt32LE(crc, at + 10);
    header.writeUInt32LE(content.length, at + 14);
    header.writeUInt32LE(content.length, at + 18);
    header.writeUInt16LE(fileName.length, at + 22);
    return header;
  };
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  entry(local, 4);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  entry(central, 6);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + fileName.length, 12);
  end.writeUInt32LE(30 + fileName.length + content.length, 16);
  return new Uint8Array(Buffer.concat([local, fileName, content, central, fileName, end]));
}

describe("refused, saying what it is", () => {
  const hex = key.der.toString("hex");
  it.each<[string, string | Uint8Array, string, RegExp]>([
    ["two different private keys", key.pem + other.pem, "KEY_AMBIGUOUS", /holds 2 different private keys/],
    ["another key's public key only", other.publicKeyPem, "KEY_IS_PUBLIC", /public key/],
    ["a hex dump (xxd -p)", hex.replace(/(.{60})/g, "$1\n"), "KEY_MALFORMED", /hex dump of the key's bytes \(138 bytes/],
    ["a hex dump with offsets (xxd)", hex.match(/.{1,32}/g)!.map((line, i) => `${(i * 16).toString(16).padStart(8, "0")}: ${line.match(/.{1,4}/g)!.join(" ")}  ................`).join("\n"), "KEY_MALFORMED", /hex dump/],
    ["a hex dump (od -An -tx1)", hex.match(/.{1,32}/g)!.map((line) => " " + line.match(/.{2}/g)!.join(" ")).join("\n"), "KEY_MALFORMED", /hex dump/],
    ["NUL padding after the key", key.pem + "\0".repeat(64), "KEY_MALFORMED", /NUL bytes in it \(padding from a binary copy/],
    ["only NUL bytes", "\0".repeat(32), "KEY_MALFORMED", /only NUL bytes/],
    ["doubly escaped line breaks", key.pem.replace(/\n/g, "\\\\n"), "KEY_MALFORMED", /doubly escaped line breaks/],
    ["a zip archive holding the .p8 (mailed or shared zipped)", zipOf(`AuthKey_${TEAM.keyId}.p8`, Buffer.from(key.pem)), "KEY_MALFORMED", /is a zip archive, not the key file itself.*unzip/],
    ["base64 of that zip (a CI secret)", Buffer.from(zipOf(`AuthKey_${TEAM.keyId}.p8`, Buffer.from(key.pem))).toString("base64"), "KEY_MALFORMED", /is a zip archive/],
    ["a gzip-compressed .p8", new Uint8Array(gzipSync(key.pem)), "KEY_MALFORMED", /is gzip-compressed data, not the key file itself.*gunzip/],
  ])("%s", (_label, input, code, message) => {
    const error = thrownBy(() => parsePrivateKey(input));
    expect(error).toMatchObject({ code, field: "privateKey", message: expect.stringMatching(message) });
    expect(error.message).not.toMatch(/revoke/i);
    for (const k of [key, other]) expect(containsKeyMaterial(error.message, k)).toBe(false);
  });
});

describe("a browser-renamed AuthKey_<ID> (1).p8", () => {
  it.each(["AuthKey_2X9R4HXF34 (1).p8", "AuthKey_2X9R4HXF34(2).p8", "AuthKey_2X9R4HXF34-1.p8", "/Users/me/Downloads/AuthKey_2X9R4HXF34 (3).p8"])("%s names Key ID 2X9R4HXF34 and the name tools expect", (name) => {
    expect(keyIdFromFileName(name)).toBe(TEAM.keyId);
    expect(renamedKeyFile(name)).toBe(`AuthKey_${TEAM.keyId}.p8`);
    expect(checkKeyId(TEAM.keyId, name)).toEqual([]);
  });

  it("Apple's own name is not a rename, and a renamed file of another key is still a mismatch", () => {
    expect(renamedKeyFile("AuthKey_2X9R4HXF34.p8")).toBeUndefined();
    expect(checkKeyId(TEAM.keyId, "AuthKey_ABCDEFGHIJ (1).p8")[0]).toMatchObject({ code: "KEY_ID_FILENAME_MISMATCH" });
  });
});
