/**
 * The consumer-project helper's clean-up rule (test/support/consumer-project.ts): installs of other
 * package contents unused for a day are removed; the ones in use, and the ones being installed,
 * are kept.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packedConsumer, pruneConsumers } from "../support/consumer-project";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "asc-prune-test-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("pruneConsumers removes consumers unused for a day, keeps recent, in-use and half-installed ones", () => {
  const now = Date.now();
  const make = (hash: string, ageMs?: number): string => {
    const path = join(dir, `asc-credential-consumer-${hash}`);
    mkdirSync(path);
    if (ageMs !== undefined) {
      writeFileSync(join(path, ".installed"), "");
      const at = new Date(now - ageMs);
      utimesSync(join(path, ".installed"), at, at);
    }
    return path;
  };
  make("aaaaaaaaaaaaaaaa", 25 * 3600_000);
  make("bbbbbbbbbbbbbbbb", 3600_000);
  const inUse = make("cccccccccccccccc", 48 * 3600_000);
  make("dddddddddddddddd");
  expect(pruneConsumers(dir, [inUse], now)).toEqual(["asc-credential-consumer-aaaaaaaaaaaaaaaa"]);
});

test("the run's consumers were installed by the global setup, with the package in each", () => {
  for (const kind of ["pulumi", "runtime"] as const) {
    const { dir: consumer, tarball } = packedConsumer(kind);
    expect(require(join(consumer, "node_modules", "pulumi-asc-credential", "package.json")).name).toBe("pulumi-asc-credential");
    expect(tarball).toMatch(/asc-credential-[0-9a-f]{16}\.tgz$/);
  }
});
