#!/usr/bin/env node
// The README's test command (`npm test`): builds the package, installs the tools each tier needs
// (Pulumi CLI, moto), runs the four tiers and ends with one line `N passed, N failed`.
//
// A tier whose tool cannot be installed is reported as failed with the installer's reason; it is
// never skipped. Extra arguments select tiers: `npm test -- unit component`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const allTiers = ["unit", "component", "engine", "runtime"];
const requested = process.argv.slice(2).filter((a) => allTiers.includes(a));
const tiers = requested.length > 0 ? requested : allTiers;
const env = { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" };

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: root, env, stdio: ["ignore", "inherit", "inherit"], ...options });
  return result.status ?? 1;
}

/** Runs an install script; returns the last stdout line (a bin dir) or an error text. */
function install(script) {
  const result = spawnSync("bash", [join(root, "scripts", script)], { cwd: root, env, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  const lines = (result.stdout ?? "").trim().split("\n");
  if (result.status !== 0) return { error: `scripts/${script} failed (exit ${result.status}); see its output above for the fix` };
  return { dir: lines[lines.length - 1] };
}

const results = [];
const started = Date.now();

console.log("== build");
if (run("npm", ["run", "--silent", "build"]) !== 0) {
  console.log("build failed: every tier needs dist/; fix the TypeScript errors above.");
  console.log(`\nTest summary\n0 passed, ${tiers.length} failed`);
  process.exit(1);
}

const toolErrors = {};
if (tiers.includes("engine")) {
  console.log("== tools: Pulumi CLI");
  const pulumi = install("install-pulumi.sh");
  if (pulumi.error) toolErrors.engine = pulumi.error;
  else env.PATH = `${pulumi.dir}${delimiter}${env.PATH}`;
}
if (tiers.includes("runtime")) {
  console.log("== tools: moto");
  const moto = install("install-moto.sh");
  if (moto.error) toolErrors.runtime = moto.error;
  else env.ASC_MOTO_BIN = join(moto.dir, "moto_server");
}

const outDir = mkdtempSync(join(tmpdir(), "asc-credential-test-"));
for (const tier of tiers) {
  console.log(`\n== tier: ${tier}`);
  if (toolErrors[tier]) {
    console.log(`FAIL tier ${tier}: ${toolErrors[tier]}`);
    results.push({ tier, passed: 0, failed: 1, skipped: 0, note: toolErrors[tier] });
    continue;
  }
  const report = join(outDir, `${tier}.json`);
  const status = run("npx", ["jest", "--ci", "--selectProjects", tier, "--json", `--outputFile=${report}`, "--maxWorkers=2"]);
  let summary;
  try {
    summary = JSON.parse(readFileSync(report, "utf8"));
  } catch {
    results.push({ tier, passed: 0, failed: 1, skipped: 0, note: `jest exited ${status} without a report` });
    continue;
  }
  // A suite that fails to load has no test results: count it as a failure, not as nothing.
  const failed = summary.numFailedTests + summary.numRuntimeErrorTestSuites;
  const skipped = summary.numPendingTests + summary.numTodoTests;
  const entry = { tier, passed: summary.numPassedTests, failed, skipped };
  if (summary.numTotalTests === 0) {
    entry.failed += 1;
    entry.note = "no test ran in this tier";
  } else if (status !== 0 && failed === 0) {
    entry.failed += 1;
    entry.note = `jest exited ${status}`;
  }
  results.push(entry);
}
rmSync(outDir, { recursive: true, force: true });

const total = results.reduce((acc, r) => ({ passed: acc.passed + r.passed, failed: acc.failed + r.failed, skipped: acc.skipped + r.skipped }), { passed: 0, failed: 0, skipped: 0 });
console.log(`\nTest summary (${Math.round((Date.now() - started) / 1000)} s)`);
for (const r of results) console.log(`  ${r.tier.padEnd(10)} ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ""}${r.note ? `  (${r.note})` : ""}`);
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ""}`);
process.exit(total.failed > 0 ? 1 : 0);
