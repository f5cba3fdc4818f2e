/**
 * Tests that run the package the way users do (the CLI binary, the packed tarball) use dist/.
 * `npm test` builds it first; a stale or missing build fails here with the fix instead of
 * silently testing old code.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(__dirname, "..", "..");
export const DIST = join(REPO_ROOT, "dist");

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Throws unless dist/ exists and is newer than every file under src/. */
export function assertFreshBuild(): void {
  const entry = join(DIST, "index.js");
  if (!existsSync(entry)) throw new Error(`dist/ is missing: run 'npm run build' first ('npm test' builds for you).`);
  const builtAt = statSync(entry).mtimeMs;
  if (newestMtime(join(REPO_ROOT, "src")) > builtAt) {
    throw new Error(`dist/ is older than src/: run 'npm run build' first ('npm test' builds for you).`);
  }
}
