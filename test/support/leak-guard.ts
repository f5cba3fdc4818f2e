/**
 * Fails any test that prints a JWT or key material. Registered for every jest project through
 * `setupFilesAfterEnv` (jest.config.js), so it runs in each test file's context.
 *
 * Output is captured where the code under test would write it: console.log/info/warn/error/debug
 * and process.stdout.write / process.stderr.write. The wrappers pass everything through, so
 * output still reaches jest. After each test the captured text must hold no JWT and no
 * 12-character run of any key generateTestKey made in this test file. Jest's reporter prints
 * a test file's buffered console output in the parent process (or after the test finished), so
 * it never runs through these wrappers while a test is being checked.
 *
 * A failure names the channel, never the text: the report must not repeat the leak.
 */
import { format } from "node:util";
import { containsKeyMaterial, generatedTestKeys } from "./keys";

/** A JWT: base64url JSON header and payload (both start with `{"` → `eyJ`), then a signature. */
export const JWT_PATTERN = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug"] as const;
type Channel = `console.${(typeof CONSOLE_METHODS)[number]}` | "process.stdout.write" | "process.stderr.write";

/** What one channel printed that it must not have; empty when clean. */
export function findLeaks(text: string, keys: readonly Parameters<typeof containsKeyMaterial>[1][]): string[] {
  const found: string[] = [];
  if (JWT_PATTERN.test(text)) found.push("a JWT");
  const leaked = keys.filter((key) => containsKeyMaterial(text, key)).length;
  if (leaked > 0) found.push(`key material of ${leaked} generated test key${leaked === 1 ? "" : "s"}`);
  return found;
}

const captured = new Map<Channel, string[]>();
const record = (channel: Channel, text: string): void => {
  let list = captured.get(channel);
  if (!list) captured.set(channel, (list = []));
  list.push(text);
};

function chunkText(chunk: unknown): string {
  if (typeof chunk === "string") return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("utf8");
  return String(chunk);
}

// Plain wrappers instead of jest.spyOn: a test calling jest.restoreAllMocks() must not switch
// the guard off.
const restores: (() => void)[] = [];
for (const method of CONSOLE_METHODS) {
  const original = console[method];
  console[method] = function guarded(this: Console, ...args: unknown[]): void {
    record(`console.${method}`, format(...args));
    return original.apply(this, args);
  };
  restores.push(() => {
    console[method] = original;
  });
}
for (const name of ["stdout", "stderr"] as const) {
  const stream = process[name];
  const own = Object.prototype.hasOwnProperty.call(stream, "write");
  const original = stream.write;
  stream.write = function guarded(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    record(`process.${name}.write`, chunkText(chunk));
    return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof stream.write;
  restores.push(() => {
    // Put back exactly what was there: an own property (e.g. jest's reporter's wrapper) or none.
    if (own) stream.write = original;
    else delete (stream as { write?: unknown }).write;
  });
}

function check(when: string): void {
  const problems: string[] = [];
  for (const [channel, texts] of captured) {
    const found = findLeaks(texts.join(""), generatedTestKeys());
    if (found.length > 0) problems.push(`${channel} printed ${found.join(" and ")}`);
  }
  captured.clear();
  if (problems.length > 0) {
    throw new Error(`leak guard (test/support/leak-guard.ts): ${when} ${problems.join("; ")}. Tokens and keys must never be logged; the text is not repeated here.`);
  }
}

// Output of beforeAll hooks is checked with the first test.
afterEach(() => check("this test"));

afterAll(() => {
  try {
    check("an afterAll hook or the code after the last test");
  } finally {
    for (const restore of restores.splice(0)) restore();
  }
});
