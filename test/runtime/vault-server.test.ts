/**
 * test/support/openbao-server.ts: the server that answers must be the OpenBao we started (it
 * knows the random root token only our child was given), and a missing binary fails with the fix.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { freePort } from "../support/local-server";
import { baoBinary, startOpenBao } from "../support/openbao-server";

jest.setTimeout(90_000);

/** A stand-in answering lookup-self like a Vault that does not know our token's policies. */
async function impostor(): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((request, response) => {
    if (request.url === "/v1/auth/token/lookup-self") hits++;
    const body = JSON.stringify({ data: { id: "someone-else", policies: ["root"] } });
    response.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port, hits: () => hits };
}

test("a port answered by another server is not taken for ours: the next attempt gets a new port", async () => {
  const fake = await impostor();
  const ports: number[] = [];
  let picks = 0;
  try {
    const bao = await startOpenBao({
      timeoutMs: 10_000,
      pickPort: async () => {
        const port = picks++ === 0 ? fake.port : await freePort();
        ports.push(port);
        return port;
      },
    });
    try {
      expect(fake.hits()).toBeGreaterThan(0);
      expect(ports).toHaveLength(2);
      expect(bao.address).toBe(`http://127.0.0.1:${ports[1]}`);
      const self = await bao.api("GET", "auth/token/lookup-self");
      expect((self.json?.data as { id: string }).id).toBe(bao.rootToken);
    } finally {
      await bao.stop();
    }
  } finally {
    fake.server.close();
  }
});

test("when every attempt meets another server, startOpenBao fails after the bounded attempts, naming it", async () => {
  const fake = await impostor();
  try {
    const error = await startOpenBao({ attempts: 2, timeoutMs: 3_000, pickPort: async () => fake.port }).then(
      async (bao) => {
        await bao.stop();
        return undefined;
      },
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/bao server (exited|did not answer)/);
  } finally {
    fake.server.close();
  }
});

test("a missing bao fails loudly with the command that installs it", () => {
  const saved = process.env.ASC_BAO_BIN;
  process.env.ASC_BAO_BIN = "/nonexistent/openbao/bin/bao";
  try {
    expect(() => baoBinary()).toThrow(/bao not found \(looked at \/nonexistent\/openbao\/bin\/bao\).*run scripts\/install-openbao\.sh/);
  } finally {
    if (saved === undefined) delete process.env.ASC_BAO_BIN;
    else process.env.ASC_BAO_BIN = saved;
  }
});

test("stop() ends the server", async () => {
  const bao = await startOpenBao();
  await bao.stop();
  await expect(fetch(`${bao.address}/v1/sys/health`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
});
