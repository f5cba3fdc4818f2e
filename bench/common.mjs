// What every benchmark here shares: loading the BUILT package, reading `--name N` options, and
// describing the machine the numbers came from.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, totalmem } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const require = createRequire(import.meta.url);

/** Requires dist/<entry>, or exits with the fix when the package was not built. */
export function loadBuilt(entry) {
  const file = path.join(root, "dist", entry);
  if (!existsSync(file)) {
    console.error(`bench: ${file} is missing. Run 'npm run build' first.`);
    process.exit(2);
  }
  return require(file);
}

/** Reads `--name N` from argv as a number, or the fallback. */
export function numberOption(name, fallback) {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
}

export const jsonOutput = process.argv.includes("--json");

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The facts RESULTS.md records next to each number. */
export function machine() {
  let cpu = cpus()[0]?.model;
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpu;
  } catch {
    /* not Linux */
  }
  return {
    date: new Date().toISOString(),
    node: process.version,
    nproc: cpus().length,
    cpu,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
