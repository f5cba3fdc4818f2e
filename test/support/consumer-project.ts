/**
 * A consumer project that installed this package from its packed tarball, the way users get
 * it. Built once per tarball content and cached under the OS temp directory, so reruns are
 * fast; concurrent test workers share it through a lock.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertFreshBuild, REPO_ROOT } from "./built-package";

export { REPO_ROOT };

/** Options of {@link installPackedConsumer}. */
export interface ConsumerOptions {
  /**
   * Packages installed next to the tarball. Default: the `@pulumi/*` peers at the versions in
   * this repository's devDependencies, since the main entry imports them.
   */
  packages?: string[];
}

const LOCK_STALE_MS = 10 * 60 * 1000;

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

/** Runs `fn` holding a directory lock, so parallel jest workers do not build or install twice. */
function withLock<T>(name: string, fn: () => T): T {
  const lock = join(tmpdir(), `${name}.lock`);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // Removed by its owner meanwhile.
      }
      sleepSync(500);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
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
  const packDir = join(tmpdir(), "asc-credential-pack");
  const tarball = withLock("asc-credential-build", () => {
    // Never rebuilt here: other test files read dist/ at the same time.
    assertFreshBuild();
    rmSync(packDir, { recursive: true, force: true });
    mkdirSync(packDir, { recursive: true });
    run("npm", ["pack", "--silent", "--pack-destination", packDir], REPO_ROOT, 120_000);
    const file = readdirSync(packDir).find((f) => f.endsWith(".tgz"));
    if (!file) throw new Error(`npm pack produced no tarball in ${packDir}`);
    // Keyed by content so a stale consumer is never reused after a code change.
    const bytes = readFileSync(join(packDir, file));
    const hash = createHash("sha256").update(bytes).update(packages.join(",")).digest("hex").slice(0, 16);
    const kept = join(tmpdir(), `asc-credential-${hash}.tgz`);
    writeFileSync(kept, bytes);
    return kept;
  });
  const hash = /asc-credential-([0-9a-f]{16})\.tgz$/.exec(tarball)![1]!;
  const dir = join(tmpdir(), `asc-credential-consumer-${hash}`);
  const marker = join(dir, ".installed");
  if (existsSync(marker)) return { dir, tarball };
  withLock(`asc-credential-consumer-${hash}`, () => {
    if (existsSync(marker)) return;
    const staging = `${dir}.staging-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, "package.json"), JSON.stringify({ name: "asc-credential-consumer", version: "0.0.0", private: true, license: "UNLICENSED" }, null, 2));
    run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", tarball, ...packages], staging, 600_000);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    writeFileSync(marker, new Date().toISOString());
  });
  return { dir, tarball };
}
