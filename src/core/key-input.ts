/**
 * Unwrapping what transports do to a key before it is parsed: byte-order marks and UTF-16 (a
 * `.p8` re-saved by a Windows shell), surrounding quotes and whitespace, literal `\n` escapes,
 * CRLF line ends, base64. And naming what a mangled input is (a hex dump, NUL padding, doubly
 * escaped line breaks) instead of calling an intact key corrupted.
 * @packageDocumentation
 */
import { fail } from "./key-failure";

/**
 * A P-256 key in any form is well under 1 KiB; 64 KiB leaves room for odd wrappings and stops
 * someone feeding a whole file or archive through the parser.
 */
export const MAX_INPUT_LENGTH = 64 * 1024;

/** Bytes as text when they are text: UTF-8 (with or without BOM) or UTF-16 (with or without BOM). */
export function bytesAsText(bytes: Uint8Array): string | undefined {
  const utf16 = utf16Text(bytes);
  if (utf16 !== undefined) return utf16;
  if (!looksLikeText(bytes)) return undefined;
  return Buffer.from(bytes).toString("utf8");
}

/**
 * UTF-16 text, little or big endian, marked by a BOM or recognised by the zero byte beside every
 * ASCII character (PowerShell's `>` and Notepad's "Unicode" save files that way).
 */
function utf16Text(bytes: Uint8Array): string | undefined {
  const buffer = Buffer.from(bytes);
  let littleEndian: boolean | undefined;
  let start = 0;
  if (buffer[0] === 0xff && buffer[1] === 0xfe) [littleEndian, start] = [true, 2];
  else if (buffer[0] === 0xfe && buffer[1] === 0xff) [littleEndian, start] = [false, 2];
  else if (buffer.length >= 8 && buffer.length % 2 === 0) {
    const sample = buffer.subarray(0, Math.min(buffer.length, 512));
    const zerosAt = (parity: number): boolean => sample.every((b, i) => (i % 2 === parity ? b === 0 : b !== 0));
    if (zerosAt(1)) littleEndian = true;
    else if (zerosAt(0)) littleEndian = false;
  }
  if (littleEndian === undefined) return undefined;
  const body = buffer.subarray(start, start + ((buffer.length - start) & ~1));
  const text = littleEndian ? body.toString("utf16le") : Buffer.from(body).swap16().toString("utf16le");
  return looksLikeText(Buffer.from(text, "utf8")) ? text : undefined;
}

/** True for printable ASCII text (tabs and line ends allowed), after an optional UTF-8 BOM. */
export function looksLikeText(bytes: Uint8Array): boolean {
  const hasBom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const sample = bytes.subarray(hasBom ? 3 : 0, 512);
  if (sample.length === 0) return true;
  for (const b of sample) {
    if (!(b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))) return false;
  }
  return true;
}

/** Removes what transports add around a PEM: BOM, quotes, whitespace, escaped line ends, CR. */
export function unwrapText(raw: string): string {
  let text = stripPadding(raw).replace(/^\uFEFF/, "").trim();
  for (let i = 0; i < 3; i++) {
    const quoted = /^(["'`])([\s\S]*)\1$/.exec(text);
    if (!quoted) break;
    text = (quoted[2] ?? "").replace(/^\uFEFF/, "").trim();
  }
  if (/\\\\[nr]/.test(text) && text.includes("BEGIN")) {
    fail("KEY_MALFORMED", "privateKey has doubly escaped line breaks (\\\\n where a line break belongs): it was escaped twice on its way (JSON inside JSON, or one quoting layer too many). Unescape it once more, or store the raw PEM text of the .p8 file.");
  }
  // Literal backslash escapes come from env files and JSON-ish CI variables.
  text = text.replace(/\\r\\n|\\n|\\r/g, "\n");
  return text.replace(/\r\n?/g, "\n").trim();
}

/** Refuses NUL characters, naming them: they come from binary-safe storage or a bad conversion. */
function stripPadding(text: string): string {
  const nul = String.fromCharCode(0);
  if (!text.includes(nul)) return text;
  const inner = text.split(nul).join("");
  fail(
    "KEY_MALFORMED",
    inner.trim() === ""
      ? "privateKey is only NUL bytes: the value was never filled in (a zeroed buffer or an empty binary secret). Pass the contents of the .p8 file."
      : "privateKey has NUL bytes in it (padding from a binary copy, or a UTF-16 file read as UTF-8): the key itself may be intact. Remove them (tr -d '\\000' < file) or pass the original .p8 file.",
  );
}

/** The bytes of standard or URL-safe base64 (padding optional), or undefined when the length is impossible. */
export function decodeBase64(text: string): Buffer | undefined {
  const standard = text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (standard.length % 4 === 1) return undefined;
  return Buffer.from(standard, "base64");
}

/**
 * Refuses a hex dump of the key (`xxd -p`, `od -An -tx1`, `xxd` with offsets), which base64
 * decoding would otherwise turn into garbage and call corrupted.
 */
export function refuseHexDump(text: string): void {
  const compact = text.replace(/^[0-9a-f]{7,8}:[ \t]/gim, "").replace(/[ \t]{2,}\S.*$/gm, "").replace(/\s+/g, "");
  if (compact.length >= 64 && compact.length % 2 === 0 && /^[0-9a-f]+$/i.test(compact) && /^30/.test(compact)) {
    fail("KEY_MALFORMED", `privateKey is a hex dump of the key's bytes (${compact.length / 2} bytes in hexadecimal), not the key file itself. Turn it back into the file (xxd -r -p dump.txt > AuthKey_<KEYID>.p8) or pass the original .p8 file.`);
  }
}

/** A value's type in words. */
export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
