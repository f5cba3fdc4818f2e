/**
 * A failed request in words, for messages: the network error's code (never its text, which can
 * quote the URL) and, for a TLS failure, what it means and how to fix it. Shared by the API, the
 * token source's fetch and the Vault reader.
 * @packageDocumentation
 */

/** `ECONNREFUSED`, `UND_ERR_CONNECT_TIMEOUT`, `DEPTH_ZERO_SELF_SIGNED_CERT`, ... */
const CODE = /^[A-Z][A-Z0-9_]{1,60}$/;
/** `TypeError`, `AbortError`, ... */
const NAME = /^[A-Za-z0-9_]{1,40}$/;

/**
 * The code of a failed `fetch` (undici puts it on the error's cause, sometimes one level deeper);
 * `undefined` when there is none. Never throws, whatever the error's getters do.
 */
export function networkErrorCode(error: unknown): string | undefined {
  try {
    const cause = (error as { cause?: { code?: unknown; cause?: { code?: unknown } } })?.cause;
    for (const code of [cause?.code, cause?.cause?.code]) if (typeof code === "string" && CODE.test(code)) return code;
  } catch {
    // A getter that throws: no code to tell.
  }
  return undefined;
}

/** The code of a failed request, else its error's class name (`TypeError`), else `undefined`. Never throws. */
export function networkErrorName(error: unknown): string | undefined {
  const code = networkErrorCode(error);
  if (code !== undefined) return code;
  try {
    const name = (error as { name?: unknown })?.name;
    return typeof name === "string" && NAME.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

const UNTRUSTED = new Set(["DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_UNTRUSTED", "CERT_SIGNATURE_FAILURE"]);
const NOT_TLS = new Set(["ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_PACKET_LENGTH_TOO_LONG", "ERR_SSL_HTTP_REQUEST", "EPROTO"]);

/** The meaning and fix of a TLS failure's code, one sentence; `undefined` for any other code. */
export function tlsAdvice(code: string): string | undefined {
  if (UNTRUSTED.has(code)) return "The server's TLS certificate is not signed by a CA Node.js trusts (a private CA, or a proxy that intercepts TLS): put that CA's PEM file in NODE_EXTRA_CA_CERTS.";
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") return "The server's TLS certificate has expired or is not valid yet: renew it, or check this machine's clock.";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return "The server's TLS certificate does not name this host: use the host name it was issued for.";
  if (NOT_TLS.has(code)) return "The server does not speak TLS at this address: check the scheme (https or http) and the port.";
  return undefined;
}
