#!/usr/bin/env node
// Engine benchmark: `pulumi preview` and `pulumi up` of a fresh stack of N ApiKeyProbe resources
// against a stack of N minimal dynamic resources (a trivial provider), side by side in one run,
// on the real CLI with a local file backend (Automation API, inline programs).
//
// Reports per-resource time (wall time / N), the marginal cost per extra resource
// ((t(N) - t(1)) / (N - 1)), and the probe/trivial ratio (goal: <= 1.2x per resource).
//
// Usage: node bench/engine.bench.mjs [--sizes 1,10,50] [--reps 3]
// Needs dist/ (npm run build) and the Pulumi CLI (installed by scripts/install-pulumi.sh).
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const argValue = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const sizes = argValue("--sizes", "1,10,50").split(",").map(Number);
const reps = Number(argValue("--reps", "3"));

if (!existsSync(join(root, "dist", "index.js"))) {
  console.error("dist/ is missing: run `npm run build` first.");
  process.exit(1);
}
const install = spawnSync("bash", [join(root, "scripts", "install-pulumi.sh")], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
if (install.status !== 0) {
  console.error("scripts/install-pulumi.sh could not provide the Pulumi CLI (reason above).");
  process.exit(1);
}
process.env.PATH = `${install.stdout.trim().split("\n").pop()}${delimiter}${process.env.PATH}`;


const sandbox = mkdtempSync(join(tmpdir(), "asc-engine-bench-"));
const modules = join(sandbox, "node_modules");
mkdirSync(modules);
for (const entry of readdirSync(join(root, "node_modules"))) {
  if (entry !== ".bin" && entry !== "pulumi-asc-credential") symlinkSync(join(root, "node_modules", entry), join(modules, entry));
}
// A copy of the built package (package.json + dist/): a rebuild of dist/ during the run cannot
// pull it away from the provider plugins, which load `pulumi-asc-credential/runtime` anew each run.
const packageDir = join(sandbox, "package");
mkdirSync(packageDir);
cpSync(join(root, "package.json"), join(packageDir, "package.json"));
cpSync(join(root, "dist"), join(packageDir, "dist"), { recursive: true });
symlinkSync(packageDir, join(modules, "pulumi-asc-credential"));

const require = createRequire(join(sandbox, "bench.cjs"));
const pulumi = require("@pulumi/pulumi");
const { LocalWorkspace } = require("@pulumi/pulumi/automation");
const { ApiKeyProbe } = require("pulumi-asc-credential");

// The baseline: the least a dynamic resource can do.
const trivialProvider = {
  async create(inputs) {
    return { id: String(inputs.name), outs: inputs };
  },
};
class Trivial extends pulumi.dynamic.Resource {
  constructor(name, args) {
    super(trivialProvider, name, args, undefined, "asc-credential-bench", "Trivial");
  }
}

mkdirSync(join(sandbox, "backend"));
const envVars = {
  PULUMI_BACKEND_URL: `file://${join(sandbox, "backend")}`,
  PULUMI_CONFIG_PASSPHRASE: "bench-passphrase-not-a-secret",
  PULUMI_HOME: join(sandbox, "pulumi-home"),
  PULUMI_SKIP_UPDATE_CHECK: "true",
  PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
};
const keys = Array.from({ length: Math.max(...sizes) }, () => generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }));
const ISSUER = "57246542-96fe-1a63-e053-0824d011072a";
const keyId = (i) => `BENCH${String(i).padStart(5, "0")}`;

async function measure(kind, n, rep) {
  const workDir = join(sandbox, `${kind}-${n}-${rep}`);
  mkdirSync(workDir);
  const program = async () => {
    for (let i = 0; i < n; i++) {
      if (kind === "probe") new ApiKeyProbe(`r${i}`, { keyId: keyId(i), issuerId: ISSUER, privateKey: keys[i] });
      else new Trivial(`r${i}`, { name: `r${i}` });
    }
  };
  const project = `bench-${kind}`;
  const stack = await LocalWorkspace.createOrSelectStack({ stackName: `n${n}r${rep}`, projectName: project, program }, { workDir, envVars, projectSettings: { name: project, runtime: "nodejs" } });
  const quiet = { onOutput: () => {} };
  let t = performance.now();
  await stack.preview(quiet);
  const preview = performance.now() - t;
  t = performance.now();
  const up = await stack.up(quiet);
  const upMs = performance.now() - t;
  if (up.summary.resourceChanges?.create !== n + 1) throw new Error(`${kind} x${n}: expected ${n + 1} creates, got ${JSON.stringify(up.summary.resourceChanges)}`);
  await stack.destroy(quiet);
  return { preview, up: upMs };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
const started = performance.now();
for (let rep = 0; rep < reps; rep++) {
  for (const n of sizes) {
    // Interleaved so drift (cache warm-up, other load) hits both kinds alike.
    for (const kind of rep % 2 === 0 ? ["trivial", "probe"] : ["probe", "trivial"]) {
      const r = await measure(kind, n, rep);
      const key = `${kind}:${n}`;
      (results[key] ??= { preview: [], up: [] }).preview.push(r.preview);
      results[key].up.push(r.up);
      process.stderr.write(`rep ${rep + 1}/${reps} ${kind.padEnd(7)} x${String(n).padEnd(3)} preview ${r.preview.toFixed(0)} ms, up ${r.up.toFixed(0)} ms\n`);
    }
  }
}
rmSync(sandbox, { recursive: true, force: true });

const cliVersion = spawnSync("pulumi", ["version"], { encoding: "utf8" }).stdout.trim();
const sdkVersion = JSON.parse(readFileSync(join(root, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")).version;
const fmt = (ms) => `${ms.toFixed(0)}`;
const lines = [];
lines.push(`Machine: ${cpus()[0]?.model ?? "unknown CPU"} x${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}; Pulumi CLI ${cliVersion}, @pulumi/pulumi ${sdkVersion}; file backend; load avg (1 min) ${loadavg()[0].toFixed(1)}; median of ${reps} runs; total ${((performance.now() - started) / 1000).toFixed(0)} s.`);
lines.push("");
lines.push("| op | N | trivial total (ms) | probe total (ms) | trivial per resource (ms) | probe per resource (ms) | ratio |");
lines.push("|---|---:|---:|---:|---:|---:|---:|");
for (const op of ["preview", "up"]) {
  for (const n of sizes) {
    const t = median(results[`trivial:${n}`][op]);
    const p = median(results[`probe:${n}`][op]);
    lines.push(`| ${op} | ${n} | ${fmt(t)} | ${fmt(p)} | ${(t / n).toFixed(1)} | ${(p / n).toFixed(1)} | ${(p / t).toFixed(2)}x |`);
  }
}
if (sizes.length > 1) {
  const lo = Math.min(...sizes);
  const hi = Math.max(...sizes);
  lines.push("");
  lines.push(`Marginal cost per extra resource, (t(${hi}) - t(${lo})) / ${hi - lo}:`);
  lines.push("");
  lines.push("| op | trivial (ms/resource) | probe (ms/resource) | ratio |");
  lines.push("|---|---:|---:|---:|");
  for (const op of ["preview", "up"]) {
    const mt = (median(results[`trivial:${hi}`][op]) - median(results[`trivial:${lo}`][op])) / (hi - lo);
    const mp = (median(results[`probe:${hi}`][op]) - median(results[`probe:${lo}`][op])) / (hi - lo);
    lines.push(`| ${op} | ${mt.toFixed(1)} | ${mp.toFixed(1)} | ${(mp / mt).toFixed(2)}x |`);
  }
}
console.log(lines.join("\n"));
