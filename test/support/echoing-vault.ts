/**
 * A hostile stand-in for a Vault server on 127.0.0.1: it refuses every request with 403 and
 * repeats the whole request (URL, headers, body) in Vault's `errors` field, so any token, path or
 * key a client sent comes straight back at it.
 */
import { createServer } from "node:http";
import { listenOnLoopback } from "./local-server";

export interface EchoingVault {
  address: string;
  /** Every request it answered, as the text it echoed. */
  requests: string[];
  close(): Promise<void>;
}

export async function startEchoingVault(): Promise<EchoingVault> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const request = `${req.method} ${req.url} ${JSON.stringify(req.headers)} ${body}`;
      requests.push(request);
      res.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify({ errors: [`permission denied: ${request}`] }));
    });
  });
  const { url, close } = await listenOnLoopback(server);
  return { address: url, requests, close };
}

/** How many of the server's requests carried one of the payloads (its first 40 characters). */
export function requestsCarrying(vault: EchoingVault, payloads: [string, string][]): number {
  return vault.requests.filter((request) => payloads.some(([, payload]) => request.includes(payload.slice(0, 40)))).length;
}
