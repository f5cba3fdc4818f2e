/**
 * A consumer project that installed this package from its packed tarball, the way users get
 * it. Built once per tarball content and cached under the OS temp directory, so reruns are
 * fast; concurrent test workers share it through a lock.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertFreshBuild, REPO_ROOT } from "./built-package";

export { REPO_ROOT };

/** The packed 0.1.0 release, as users installed it: stacks it created must keep working. */
export const PREVIOUS_RELEASE_TARBALL = join(REPO_ROOT, "test", "fixtures", "pulumi-asc-credential-0.1.0.tgz");

/** Options of {@link installPackedConsumer}. */
export interface ConsumerOptions {
  /**
   * Packages installed next to the tarball. Default: the `@pulumi/*` peers at the versions in
   * this repository's devDependencies, since the main entry imports them. `[]`: the package's
   * own dependencies only.
   */
  packages?: string[];
}

// A lock file whose owner has not written its pid after this long is left over from a crash
// between create and write.
const EMPTY_LOCK_STALE_MS = 30_000;

function devVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
  const version = pkg.devDependencies[name];
  if (!version) throw new Error(`${name} is not a devDependency of ${REPO_ROOT}/package.json`);
  return `${name}@${version.replace(/^[\^~]/, "")}`;
}

/** The default packages of a consumer: the Pulumi peers. */
export function defaultConsumerPackages(): string[] {
  return [devVersion("@pulumi/pulumi"), devVersion("@pulumi/aws"), devVersion("@pulumi/command")];
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** True while a process with this pid exists (EPERM: it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readLockOwner(lock: string): { pid: number | undefined; mtimeMs: number } | undefined {
  try {
    const mtimeMs = statSync(lock).mtimeMs;
    // A directory is the lock of an older version of this file: no pid, judged by age.
    if (statSync(lock).isDirectory()) return { pid: undefined, mtimeMs };
    const text = readFileSync(lock, "utf8").trim();
    return { pid: /^\d+$/.test(text) ? Number(text) : undefined, mtimeMs };
  } catch {
    return undefined; // released meanwhile
  }
}

/**
 * Runs `fn` holding a lock file (holding the owner's pid) in the OS temp directory, so parallel
 * jest workers do not build or install twice. A lock is stale only when its owner is dead: an
 * npm install may legitimately take many minutes. Exported for tests.
 */
export function withLock<T>(name: string, fn: () => T, lockDir = tmpdir()): T {
  const lock = join(lockDir, `${name}.lock`);
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(lock, "wx");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, String(process.pid));
      } finally {
        closeSync(fd);
      }
      break;
    }
    const owner = readLockOwner(lock);
    const stale = owner !== undefined && (owner.pid !== undefined ? !pidAlive(owner.pid) : Date.now() - owner.mtimeMs > EMPTY_LOCK_STALE_MS);
    if (stale) {
      // Re-read just before removing, so a lock another waiter has meanwhile taken over survives.
      const again = readLockOwner(lock);
      if (again !== undefined && again.pid === owner.pid && again.mtimeMs === owner.mtimeMs) rmSync(lock, { recursive: true, force: true });
      continue;
    }
    sleepSync(250);
  }
  try {
    return fn();
  } finally {
    // Only our own lock: never one a waiter took over after judging ours stale.
    if (readLockOwner(lock)?.pid === process.pid) rmSync(lock, { force: true });
  }
}

/** Removes `<prefix>*.staging-<pid>` directories of dead processes (an install killed midway). */
export function removeDeadStagingDirs(parent: string, prefix: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(parent)) {
    const match = /\.staging-(\d+)$/.exec(name);
    if (!name.startsWith(prefix) || !match || pidAlive(Number(match[1]))) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): string {
  try {
    return execFileSync(command, args, { cwd, encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_update_notifier: "false" } });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}: ${e.message}\n${(e.stderr ?? "").slice(-4000)}\n${(e.stdout ?? "").slice(-2000)}`, { cause: error });
  }
}

/**
 * Packs the built package (`npm pack`; dist/ must be fresh, `npm test` builds it) and installs the tarball plus
 * `packages` into a fresh consumer project (npm registry needed on the first run). Returns the
 * consumer directory and the tarball path. Synchronous work behind a promise; call it from
 * `beforeAll` with a generous timeout (a first install takes minutes).
 */
export async function installPackedConsumer(opts: ConsumerOptions = {}): Promise<{ dir: string; tarball: string }> {
  const packages = opts.packages ?? defaultConsumerPackages();
  const tarball = withLock("asc-credential-build", () => {
    // Never rebuilt here: other test files read dist/ at the same time.
    assertFreshBuild();
    // A directory of this call's own: nothing shared to clear or to race on.
    const packDir = mkdtempSync(join(tmpdir(), "asc-credential-pack-"));
    try {
      run("npm", ["pack", "--silent", "--pack-destination", packDir], REPO_ROOT, 120_000);
      const file = readdirSync(packDir).find((f) => f.endsWith(".tgz"));
      if (!file) throw new Error(`npm pack produced no tarball in ${packDir}`);
      // Keyed by content so a stale consumer is never reused after a code change.
      const bytes = readFileSync(join(packDir, file));
      const hash = createHash("sha256").update(bytes).update(packages.join(",")).digest("hex").slice(0, 16);
      const kept = join(tmpdir(), `asc-credential-${hash}.tgz`);
      writeFileSync(kept, bytes);
      return kept;
    } finally {
      rmSync(packDir, { recursive: true, force: true });
    }
  });
  const hash = /asc-credential-([0-9a-f]{16})\.tgz$/.exec(tarball)![1]!;
  const dir = join(tmpdir(), `asc-credential-consumer-${hash}`);
  const marker = join(dir, ".installed");
  if (existsSync(marker)) {
    // Marks it as in use, so pruning by other runs leaves it alone.
    utimesSync(marker, new Date(), new Date());
    return { dir, tarball };
  }
  withLock(`asc-credential-consumer-${hash}`, () => {
    if (existsSync(marker)) return;
    removeDeadStagingDirs(tmpdir(), `asc-credential-consumer-`);
    const staging = `${dir}.staging-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, "package.json"), JSON.stringify({ name: "asc-credential-consumer", version: "0.0.0", private: true, license: "UNLICENSED" }, null, 2));
    run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", tarball, ...packages], staging, 600_000);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    writeFileSync(marker, new Date().toISOString());
  });
  pruneConsumers(tmpdir(), hash);
  return { dir, tarball };
}

const UNUSED_FOR_MS = 24 * 60 * 60 * 1000;

/**
 * Removes consumer installs (and their tarballs) of other package contents that no run has used
 * for a day: each code change makes a new one of a few hundred MB.
 */
export function pruneConsumers(parent: string, keepHash: string, now = Date.now()): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(parent)) {
    const match = /^asc-credential-consumer-([0-9a-f]{16})$/.exec(name);
    if (!match || match[1] === keepHash) continue;
    const marker = join(parent, name, ".installed");
    let lastUse: number;
    try {
      lastUse = statSync(marker).mtimeMs;
    } catch {
      continue; // being installed, or not ours to judge
    }
    if (now - lastUse < UNUSED_FOR_MS) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
    rmSync(join(parent, `asc-credential-${match[1]}.tgz`), { force: true });
    removed.push(name);
  }
  return removed;
}
