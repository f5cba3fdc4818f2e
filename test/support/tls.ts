/**
 * An https server on 127.0.0.1 whose self-signed certificate this machine does not trust (as with
 * a private CA or a TLS-intercepting proxy). The certificate and its key are made by `openssl` at
 * test time, so no private key is committed.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

let made: { cert: string; key: string } | undefined;

/** A fresh self-signed P-256 certificate for 127.0.0.1 and localhost, made once per process. */
export function selfSignedCertificate(): { cert: string; key: string } {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), "asc-tls-"));
  try {
    const result = spawnSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=asc-credential-test-self-signed", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      { encoding: "utf8", timeout: 20_000 },
    );
    if (result.error || result.status !== 0) {
      throw new Error(`openssl could not make a test certificate (${result.error?.message ?? result.stderr.trim()}): install OpenSSL 1.1.1 or newer (Debian: apt-get install openssl)`);
    }
    made = { cert: readFileSync(join(dir, "cert.pem"), "utf8"), key: readFileSync(join(dir, "key.pem"), "utf8") };
    return made;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An https server on 127.0.0.1 with a self-signed certificate; resolves with its base URL. */
export async function selfSignedServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createHttpsServer(selfSignedCertificate(), handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return { url: `https://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`, server };
}
