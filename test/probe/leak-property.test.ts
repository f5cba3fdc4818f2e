/**
 * CheckFailures, the text `pulumi preview` prints: a key or a token in any input of the probe
 * never reaches a failure's reason, and a failure names its property (whose raw value the engine
 * prints) only when that value is safe to print.
 */
import { apiKeyProbeProvider as provider } from "../../src/probe/provider";
import { createToken } from "../../src/core";
import { isSafeToPrint } from "../../src/core/redact";
import { acceptedForms, containsKeyMaterial, generateTestKey, TEAM } from "../support/keys";

test("every input of the probe x every encoding of a key, and a token", async () => {
  const key = generateTestKey();
  const used = generateTestKey();
  const token = await createToken({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem });
  const payloads = [...Object.values(acceptedForms(key)).filter((v): v is string => typeof v === "string"), key.pem.split("\n")[1]!, key.der.toString("hex"), token];
  const inputs = ["keyId", "issuerId", "keyType", "privateKeyFileName", "mode", "baseUrl", "timeoutMs"];
  const leaks: string[] = [];
  for (const input of inputs) {
    for (const payload of payloads) {
      const { failures } = await provider.check!({}, { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: used.pem, [input]: payload });
      const text = JSON.stringify(failures);
      if (containsKeyMaterial(text, key)) leaks.push(`${input}: key material in a reason`);
      if (text.includes(token.split(".")[2]!.slice(10, 30))) leaks.push(`${input}: the token in a reason`);
      for (const failure of failures ?? []) {
        if (failure.property !== "" && !isSafeToPrint(payload)) leaks.push(`${input}: failure names property ${failure.property}, whose value the engine would print`);
      }
      expect(failures?.length).toBeGreaterThan(0);
    }
  }
  expect(leaks).toEqual([]);
});

test("a key or a token inside an otherwise valid baseUrl is refused: the URL is kept in plain text in the state", async () => {
  const key = generateTestKey();
  const token = await createToken({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem });
  const body = key.pem.split("\n")[1]!;
  const payloads = [body, body.slice(20, 32), Buffer.from(key.pem).toString("base64"), key.der.toString("hex"), token, token.split(".")[2]!];
  for (const payload of payloads) {
    for (const baseUrl of [`https://proxy.example.com/${encodeURIComponent(payload)}`, `https://proxy.example.com/v1?t=${encodeURIComponent(payload)}`, `https://proxy.example.com/#${payload}`]) {
      const { failures } = await provider.check!({}, { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem, mode: "online", baseUrl });
      expect(failures).toEqual([{ property: "", reason: expect.stringMatching(/^baseUrl holds what may be key material or a token.*https:\/\/api\.appstoreconnect\.apple\.com/) }]);
      expect(containsKeyMaterial(JSON.stringify(failures), key)).toBe(false);
    }
  }
  // Ordinary base URLs still pass.
  for (const baseUrl of ["https://api.appstoreconnect.apple.com", "https://asc-proxy.internal.example.com:8443/apple/", "http://127.0.0.1:41234"]) {
    expect((await provider.check!({}, { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem, mode: "online", baseUrl })).failures).toEqual([]);
  }
});
