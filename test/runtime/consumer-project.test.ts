/**
 * The consumer-project helper's lock and clean-up rules (test/support/consumer-project.ts): a
 * lock is stale only when its owner process is dead, whatever its age, and staging directories
 * of dead installs are removed.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pidAlive, pruneConsumers, removeDeadStagingDirs, withLock } from "../support/consumer-project";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "asc-lock-test-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  const pid = Number(child.stdout);
  expect(pidAlive(pid)).toBe(false);
  return pid;
}

test("withLock writes the owner's pid and removes the lock afterwards", () => {
  const lock = join(dir, "x.lock");
  const inside = withLock("x", () => readFileSync(lock, "utf8"), dir);
  expect(inside).toBe(String(process.pid));
  expect(existsSync(lock)).toBe(false);
});

test("a lock held by a dead process is taken over at once", () => {
  const lock = join(dir, "x.lock");
  writeFileSync(lock, String(deadPid()));
  const started = Date.now();
  expect(withLock("x", () => "ran", dir)).toBe("ran");
  expect(Date.now() - started).toBeLessThan(2_000);
});

test("an old lock whose owner is alive is waited for, not broken (an install may take minutes)", async () => {
  const lock = join(dir, "x.lock");
  // The owner: alive for ~1.5 s, then releases the lock the way withLock does.
  const owner = spawn("sh", ["-c", `sleep 1.5; rm -f '${lock}'`], { stdio: "ignore" });
  const exited = new Promise((r) => owner.once("exit", r));
  writeFileSync(lock, String(owner.pid));
  const hourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(lock, hourAgo, hourAgo);
  const started = Date.now();
  expect(withLock("x", () => readFileSync(lock, "utf8"), dir)).toBe(String(process.pid));
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  await exited;
});

test("staging directories of dead processes are removed, live ones kept", () => {
  const dead = `asc-credential-consumer-abc.staging-${deadPid()}`;
  const live = `asc-credential-consumer-abc.staging-${process.pid}`;
  const other = `unrelated.staging-${deadPid()}`;
  for (const name of [dead, live, other]) mkdirSync(join(dir, name));
  expect(removeDeadStagingDirs(dir, "asc-credential-consumer-")).toEqual([dead]);
  expect([existsSync(join(dir, dead)), existsSync(join(dir, live)), existsSync(join(dir, other))]).toEqual([false, true, true]);
});

test("consumers unused for a day are pruned with their tarballs; the current and recently used ones stay", () => {
  const day = 24 * 60 * 60 * 1000;
  const now = Date.now();
  const make = (hash: string, lastUseMsAgo: number | undefined): void => {
    const consumer = join(dir, `asc-credential-consumer-${hash}`);
    mkdirSync(consumer);
    writeFileSync(join(dir, `asc-credential-${hash}.tgz`), "");
    if (lastUseMsAgo !== undefined) {
      writeFileSync(join(consumer, ".installed"), "");
      const at = new Date(now - lastUseMsAgo);
      utimesSync(join(consumer, ".installed"), at, at);
    }
  };
  make("aaaaaaaaaaaaaaaa", 2 * day); // stale
  make("bbbbbbbbbbbbbbbb", day / 2); // used recently by another run
  make("cccccccccccccccc", 5 * day); // the current one: never pruned
  make("dddddddddddddddd", undefined); // still being installed
  expect(pruneConsumers(dir, "cccccccccccccccc", now)).toEqual(["asc-credential-consumer-aaaaaaaaaaaaaaaa"]);
  expect(existsSync(join(dir, "asc-credential-aaaaaaaaaaaaaaaa.tgz"))).toBe(false);
  for (const hash of ["bbbbbbbbbbbbbbbb", "cccccccccccccccc", "dddddddddddddddd"]) {
    expect(existsSync(join(dir, `asc-credential-consumer-${hash}`))).toBe(true);
  }
});
