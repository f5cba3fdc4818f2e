/**
 * Recognising one known private key inside other text: what a component uses to refuse a key
 * pasted into an input it stores in plain text. Pure: node:crypto only.
 * @packageDocumentation
 */
import { createPrivateKey } from "node:crypto";

/** A leak is a run this long of the key (the rule redact.ts applies to messages). */
const RUN = 12;

/** Characters of `encoded` (base64 or base64url of some bytes) that encode only bytes within [start, end). */
function base64Slice(encoded: string, start: number, end: number): string {
  return encoded.slice(Math.ceil(start / 3) * 4, Math.floor(end / 3) * 4);
}

/**
 * A test for `text` holding part of the private key `pem` (a normalised PKCS#8 PEM, as
 * `parsePrivateKey` returns it): any 12-character run of the characters that encode its secret
 * scalar, in the encodings a key is pasted in (the PEM body in any line form, base64, base64url
 * or hex of its PKCS#8 or SEC1 DER, base64 of the PEM file, the scalar alone). The DER header
 * every P-256 key shares and the public point are not judged, so another key, a public key or a
 * fingerprint never matches. Never throws; for a `pem` it cannot read, matches nothing.
 */
export function keyMaterialDetector(pem: string): (text: string) => boolean {
  const windows = new Set<string>();
  try {
    const key = createPrivateKey(pem);
    const d = Buffer.from(String(key.export({ format: "jwk" }).d ?? ""), "base64url");
    const pkcs8 = key.export({ type: "pkcs8", format: "der" });
    const runs = [d.toString("base64"), d.toString("base64url"), d.toString("hex")];
    for (const der of [pkcs8, key.export({ type: "sec1", format: "der" })]) {
      const at = der.indexOf(d);
      if (d.length === 0 || at < 0) continue;
      runs.push(base64Slice(der.toString("base64"), at, at + d.length), base64Slice(der.toString("base64url"), at, at + d.length), der.subarray(at, at + d.length).toString("hex"));
    }
    // The PEM file in base64: its body's characters that encode d sit at known places of the text.
    const at = pkcs8.indexOf(d);
    if (at >= 0) {
      const header = pem.indexOf("\n") + 1;
      const place = (i: number): number => header + i + Math.floor(i / 64);
      const from = Math.ceil(at / 3) * 4;
      const to = Math.floor((at + d.length) / 3) * 4;
      runs.push(base64Slice(Buffer.from(pem).toString("base64"), place(from), place(to - 1) + 1));
    }
    for (const run of runs) for (let i = 0; i + RUN <= run.length; i++) windows.add(run.slice(i, i + RUN));
  } catch {
    // Not a key: nothing to look for.
  }
  return (text: string): boolean => {
    if (typeof text !== "string" || windows.size === 0) return false;
    for (let i = 0; i + RUN <= text.length; i++) if (windows.has(text.slice(i, i + RUN))) return true;
    return false;
  };
}
