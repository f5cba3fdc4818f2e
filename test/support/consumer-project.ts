/**
 * Consumer projects that installed this package from its packed tarball, the way users get it:
 * one with the `@pulumi/*` peers, one with the package's own dependencies only. Jest's global
 * setup (test/support/global-setup.ts) packs and installs them once per run, before any worker
 * starts, and tests find them through {@link packedConsumer}. Installs are cached under the OS
 * temp directory by content, so later runs (and the other tiers) reuse them.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertFreshBuild, REPO_ROOT } from "./built-package";
import { describeFailure, runSync } from "./child";

export { REPO_ROOT };

/** The packed 0.1.0 release, as users installed it: stacks it created must keep working. */
export const PREVIOUS_RELEASE_TARBALL = join(REPO_ROOT, "test", "fixtures", "pulumi-asc-credential-0.1.0.tgz");

/** The variable global setup passes the consumers' manifest in. */
const MANIFEST_VARIABLE = "ASC_PACKED_CONSUMERS";

/** The two consumers: `pulumi` (the package and its Pulumi peers), `runtime` (the package alone). */
export type ConsumerKind = "pulumi" | "runtime";

interface Manifest {
  tarball?: string;
  consumers?: Record<ConsumerKind, string>;
  /** Why they could not be prepared (a stale build, no registry): tests that need them fail with it. */
  error?: string;
}

function devVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
  const version = pkg.devDependencies[name];
  if (!version) throw new Error(`${name} is not a devDependency of ${REPO_ROOT}/package.json`);
  return `${name}@${version.replace(/^[\^~]/, "")}`;
}

/** The packages each consumer installs next to the tarball. */
export function consumerPackages(kind: ConsumerKind): string[] {
  return kind === "pulumi" ? [devVersion("@pulumi/pulumi"), devVersion("@pulumi/aws"), devVersion("@pulumi/command"), devVersion("@pulumi/vault")] : [];
}

function npm(args: string[], cwd: string, timeoutMs: number): void {
  const result = runSync("npm", args, { cwd, timeoutMs, env: { ...process.env, npm_config_update_notifier: "false" } });
  if (result.code !== 0) throw new Error(describeFailure(`npm ${args.join(" ")} in ${cwd}`, result));
}

/** Packs dist/ (which must be fresh) into a tarball named by its content. */
function pack(): string {
  assertFreshBuild();
  const packDir = mkdtempSync(join(tmpdir(), "asc-credential-pack-"));
  try {
    npm(["pack", "--silent", "--pack-destination", packDir], REPO_ROOT, 120_000);
    const file = readdirSync(packDir).find((f) => f.endsWith(".tgz"));
    if (!file) throw new Error(`npm pack produced no tarball in ${packDir}`);
    const bytes = readFileSync(join(packDir, file));
    const kept = join(tmpdir(), `asc-credential-${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}.tgz`);
    if (!existsSync(kept)) writeFileSync(kept, bytes);
    return kept;
  } finally {
    rmSync(packDir, { recursive: true, force: true });
  }
}

/** Installs (or reuses) a consumer of `tarball` with `packages`; returns its directory. */
function install(tarball: string, packages: string[]): string {
  const hash = createHash("sha256").update(readFileSync(tarball)).update(packages.join(",")).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), `asc-credential-consumer-${hash}`);
  const marker = join(dir, ".installed");
  if (existsSync(marker)) {
    // Marks it as in use, so pruning by other runs leaves it alone.
    utimesSync(marker, new Date(), new Date());
    return dir;
  }
  const staging = `${dir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, "package.json"), JSON.stringify({ name: "asc-credential-consumer", version: "0.0.0", private: true, license: "UNLICENSED" }, null, 2));
  npm(["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", tarball, ...packages], staging, 600_000);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  writeFileSync(marker, new Date().toISOString());
  return dir;
}

/**
 * Packs and installs both consumers, and records where they are (or why they are not) for the
 * test workers. Never throws: a run whose tests need no consumer must not fail for it.
 */
export function preparePackedConsumers(): void {
  let manifest: Manifest;
  try {
    const tarball = pack();
    const consumers = { pulumi: install(tarball, consumerPackages("pulumi")), runtime: install(tarball, consumerPackages("runtime")) };
    pruneConsumers(tmpdir(), Object.values(consumers));
    manifest = { tarball, consumers };
  } catch (error) {
    manifest = { error: error instanceof Error ? error.message : String(error) };
  }
  process.env[MANIFEST_VARIABLE] = JSON.stringify(manifest);
}

/**
 * The installed consumer of this run.
 * @throws when jest ran without the global setup (run the tier through `npm test`).
 */
export function packedConsumer(kind: ConsumerKind): { dir: string; tarball: string } {
  const raw = process.env[MANIFEST_VARIABLE];
  if (!raw) throw new Error(`No packed consumer: ${MANIFEST_VARIABLE} is not set. Run jest with this repository's jest.config.js (its globalSetup installs them), e.g. through \`npm test\`.`);
  const manifest = JSON.parse(raw) as Manifest;
  if (!manifest.consumers || !manifest.tarball) throw new Error(`The packed consumers could not be prepared: ${manifest.error ?? "unknown reason"}`);
  return { dir: manifest.consumers[kind], tarball: manifest.tarball };
}

const UNUSED_FOR_MS = 24 * 60 * 60 * 1000;

/**
 * Removes consumer installs (and their tarballs) that no run has used for a day: each code change
 * makes a new one of a few hundred MB.
 */
export function pruneConsumers(parent: string, keep: string[], now = Date.now()): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(parent)) {
    const match = /^asc-credential-consumer-([0-9a-f]{16})$/.exec(name);
    if (!match || keep.includes(join(parent, name))) continue;
    let lastUse: number;
    try {
      lastUse = statSync(join(parent, name, ".installed")).mtimeMs;
    } catch {
      continue; // being installed, or not ours to judge
    }
    if (now - lastUse < UNUSED_FOR_MS) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
