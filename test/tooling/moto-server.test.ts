/**
 * test/support/moto-server.ts: the server that answers must be the moto_server we started, not
 * whatever took its port first.
 */
import { createServer, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { freePort } from "../support/local-server";
import { startMoto } from "../support/moto-server";

jest.setTimeout(90_000);

/** A stand-in answering moto's readiness URL like moto does, on a port moto will then fail to bind. */
async function impostor(): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((request, response) => {
    if (request.url?.startsWith("/moto-api/data.json")) hits++;
    response.writeHead(200, { "content-type": "application/javascript" }).end("{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port, hits: () => hits };
}

test("a port answered by another server is not taken for moto: the next attempt gets a new port", async () => {
  const fake = await impostor();
  const ports: number[] = [];
  let picks = 0;
  try {
    const moto = await startMoto({
      pickPort: async () => {
        const port = picks++ === 0 ? fake.port : await freePort();
        ports.push(port);
        return port;
      },
    });
    try {
      expect(fake.hits()).toBeGreaterThan(0);
      expect(ports).toHaveLength(2);
      expect(moto.endpoint).toBe(`http://127.0.0.1:${ports[1]}`);
      const state = await fetch(`${moto.endpoint}/moto-api/data.json`);
      expect(state.status).toBe(200);
      await state.text();
    } finally {
      await moto.stop();
    }
  } finally {
    fake.server.close();
  }
});

test("when every attempt meets another server, startMoto fails after the bounded attempts, naming it", async () => {
  const fake = await impostor();
  let picks = 0;
  try {
    const error = await startMoto({ attempts: 2, timeoutMs: 10_000, pickPort: async () => (picks++, fake.port) }).then(
      async (moto) => {
        await moto.stop();
        throw new Error("startMoto accepted a server that is not moto");
      },
      (e: Error) => e,
    );
    expect(picks).toBe(2);
    expect(error.message).toMatch(/exited|not this moto_server/);
    expect(error.message).toContain(`127.0.0.1:${fake.port}`);
  } finally {
    fake.server.close();
  }
});
