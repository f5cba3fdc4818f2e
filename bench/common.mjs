// What every benchmark here shares: loading the BUILT package, reading `--name N` options, and
// describing the machine the numbers came from.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, totalmem } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
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

/**
 * Runs each variant (a name → { args, env, output? }) as its own `node` process once per round, in
 * a rotating order, and returns each variant's times (ms) and the per-round ratios asked for
 * (variants of one round ran back to back under the same load). A variant whose stdout does not
 * match its `output` pattern fails the run: a job that exits 0 without doing its work is no time.
 */
export function sideBySide(variants, ratios, rounds, cwd) {
  const names = Object.keys(variants);
  const run = (name) => {
    const { args, env, output } = variants[name];
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { cwd, env, encoding: "utf8" });
    const ms = performance.now() - started;
    if (result.status !== 0) throw new Error(`${name} failed (exit ${result.status}): ${result.stderr.slice(0, 500)}`);
    if (output !== undefined && !output.test(result.stdout)) throw new Error(`${name} printed ${JSON.stringify(result.stdout.slice(0, 80))}, not what the job makes`);
    return ms;
  };
  for (const name of names) run(name); // warm the OS file cache
  const times = Object.fromEntries(names.map((n) => [n, []]));
  const perRound = Object.fromEntries(Object.keys(ratios).map((r) => [r, []]));
  for (let round = 0; round < rounds; round++) {
    const t = {};
    for (const name of names.map((_, i) => names[(i + round) % names.length])) t[name] = run(name);
    for (const name of names) times[name].push(t[name]);
    for (const [ratio, [numerator, denominator]] of Object.entries(ratios)) perRound[ratio].push(t[numerator] / t[denominator]);
  }
  return {
    medianMs: Object.fromEntries(names.map((n) => [n, Math.round(median(times[n]) * 10) / 10])),
    ratio: Object.fromEntries(Object.entries(perRound).map(([r, values]) => [r, Math.round(median(values) * 1000) / 1000])),
  };
}

/** The versions a result depends on: Node, OpenSSL, this package, the AWS SDK. */
export function versions() {
  const version = (name) => {
    try {
      return JSON.parse(readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")).version;
    } catch {
      return "not installed";
    }
  };
  return { node: process.version, openssl: process.versions.openssl, package: JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).version, awsSdk: version("@aws-sdk/client-secrets-manager"), jose: version("jose") };
}
