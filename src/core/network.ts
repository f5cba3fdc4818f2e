/**
 * What a network error's code says about TLS, for messages: the API and Vault calls report the
 * code, and for a TLS failure this says what it means and how to fix it.
 * @packageDocumentation
 */

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
