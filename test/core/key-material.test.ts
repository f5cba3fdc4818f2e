import { parsePrivateKey } from "../../src/core";
import { keyMaterialDetector } from "../../src/core/key-material";
import { acceptedTextForms, generateTestKey } from "../support/keys";

test("every accepted text form of the key, and a 12-character slice of its body, is recognised; nothing of another key or of its public half is", () => {
  const key = generateTestKey();
  const other = generateTestKey();
  const holds = keyMaterialDetector(parsePrivateKey(key.pem).pem);
  for (const [form, text] of acceptedTextForms(key)) expect([form, holds(`note: ${text} end`)]).toEqual([form, true]);
  expect(holds(key.der.toString("hex"))).toBe(true);
  expect(holds(key.der.toString("base64url").slice(40, 100))).toBe(true);
  const bodyLine = key.pem.split("\n")[1]!;
  const secretRun = [...Array(bodyLine.length - 11).keys()].map((i) => bodyLine.slice(i, i + 12)).filter((w) => holds(w));
  expect(secretRun.length).toBeGreaterThan(0);

  for (const [form, text] of acceptedTextForms(other)) expect([form, holds(text)]).toEqual([form, false]);
  const parsed = parsePrivateKey(key.pem);
  expect(holds(parsed.publicKeyPem)).toBe(false);
  expect(holds(parsed.fingerprint)).toBe(false);
  expect(holds("App Store Connect API key 'ci' (pulumi-asc-credential) arn:aws:iam::111122223333:role/reader")).toBe(false);
  expect(keyMaterialDetector("not a key")(key.pem)).toBe(false);
});
