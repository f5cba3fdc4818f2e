// The leak assertions across the suite are only as good as containsKeyMaterial: it must fire on
// every form a key can take and stay quiet on the public half, which is safe to show.
import { acceptedForms, containsKeyMaterial, generateTestKey } from "../support/keys";

test("containsKeyMaterial fires on every accepted text form and on a JSON-escaped PEM", () => {
  for (let i = 0; i < 25; i++) {
    const key = generateTestKey();
    for (const [name, form] of Object.entries(acceptedForms(key))) {
      const text = typeof form === "string" ? form : Buffer.from(form).toString("base64");
      expect([name, containsKeyMaterial(text, key)]).toEqual([name, true]);
    }
    expect(containsKeyMaterial(JSON.stringify({ privateKey: key.pem }), key)).toBe(true);
  }
});

test("containsKeyMaterial stays quiet on the public key and on another key", () => {
  for (let i = 0; i < 25; i++) {
    const key = generateTestKey();
    const other = generateTestKey();
    expect(containsKeyMaterial(key.publicKeyPem, key)).toBe(false);
    expect(containsKeyMaterial(other.pem, key)).toBe(false);
  }
});
