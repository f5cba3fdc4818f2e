/**
 * A failed request in words: the error's code from its cause (never its text), its class name
 * when it has no code, and what a TLS failure means.
 */
import { networkErrorCode, networkErrorName, tlsAdvice } from "../../src/core/network";

const failed = (cause: unknown): Error => Object.assign(new TypeError("fetch failed for https://user:secret@example.com/"), { cause });

test("the code comes from the cause, or the cause's cause, and never from the text", () => {
  expect(networkErrorCode(failed({ code: "ECONNREFUSED" }))).toBe("ECONNREFUSED");
  expect(networkErrorCode(failed({ cause: { code: "UND_ERR_CONNECT_TIMEOUT" } }))).toBe("UND_ERR_CONNECT_TIMEOUT");
  expect(networkErrorCode(failed({ code: "not a code: secret" }))).toBeUndefined();
  expect(networkErrorCode(failed(undefined))).toBeUndefined();
  expect(networkErrorCode("a string")).toBeUndefined();
});

test("without a code, the class name; anything else is undefined, and nothing throws", () => {
  expect(networkErrorName(failed({ code: "ENOTFOUND" }))).toBe("ENOTFOUND");
  expect(networkErrorName(failed(undefined))).toBe("TypeError");
  expect(networkErrorName({ name: "a name with spaces and a secret" })).toBeUndefined();
  const hostile = Object.defineProperty({}, "cause", { get: () => { throw new Error("boom"); } });
  Object.defineProperty(hostile, "name", { get: () => { throw new Error("boom"); } });
  expect(networkErrorCode(hostile)).toBeUndefined();
  expect(networkErrorName(hostile)).toBeUndefined();
});

test("a TLS failure's code says what it means and the fix; another code says nothing", () => {
  expect(tlsAdvice("DEPTH_ZERO_SELF_SIGNED_CERT")).toMatch(/NODE_EXTRA_CA_CERTS/);
  expect(tlsAdvice("CERT_HAS_EXPIRED")).toMatch(/expired/);
  expect(tlsAdvice("ERR_SSL_WRONG_VERSION_NUMBER")).toMatch(/does not speak TLS/);
  expect(tlsAdvice("ECONNREFUSED")).toBeUndefined();
});
