#!/usr/bin/env node
// The README's test command (`npm test`): builds the package, installs the tools each tier needs
// (Pulumi CLI, moto), runs the four tiers and ends with one line `N passed, N failed`.
//
// A tier whose tool cannot be installed is reported as failed with the installer's reason; it is
// never skipped. A skipped or todo test counts as a failure too: green must mean every test ran.
// Extra arguments select tiers: `npm test -- unit component`; an unknown name exits 2.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const allTiers = ["unit", "component", "engine", "runtime"];
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

/**
 * One tier's line of the summary from jest's --json report and exit status. Exported for
 * test/runtime/test-all.test.ts.
 */
export function tierResult(tier, summary, status) {
  // A suite that fails to load has no test results: count it as a failure, not as nothing.
  // Skipped (pending) and todo tests are failures as well: jest exits 0 for them.
  const skipped = summary.numPendingTests + summary.numTodoTests;
  const failed = summary.numFailedTests + summary.numRuntimeErrorTestSuites + skipped;
  const entry = { tier, passed: summary.numPassedTests, failed, skipped };
  const notes = [];
  if (skipped > 0) notes.push(`${skipped} skipped/todo counted as failed: skipped tests are not allowed`);
  if (summary.numTotalTests === 0) {
    entry.failed += 1;
    notes.push("no test ran in this tier");
  } else if (status !== 0 && failed === 0) {
    entry.failed += 1;
    notes.push(`jest exited ${status}`);
  }
  if (notes.length > 0) entry.note = notes.join("; ");
  return entry;
}

/** Builds, installs the tools, runs `tiers` and exits with the summary's status. */
function main(tiers) {
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
    results.push(tierResult(tier, summary, status));
  }
  rmSync(outDir, { recursive: true, force: true });

  const total = results.reduce((acc, r) => ({ passed: acc.passed + r.passed, failed: acc.failed + r.failed, skipped: acc.skipped + r.skipped }), { passed: 0, failed: 0, skipped: 0 });
  console.log(`\nTest summary (${Math.round((Date.now() - started) / 1000)} s)`);
  for (const r of results) console.log(`  ${r.tier.padEnd(10)} ${r.passed} passed, ${r.failed} failed${r.skipped ? ` (${r.skipped} of them skipped)` : ""}${r.note ? `  (${r.note})` : ""}`);
  if (total.skipped > 0) console.log(`${total.skipped} skipped or todo test(s) counted as failed: skipped tests are not allowed (remove .skip/.todo, or delete the test).`);
  console.log(`${total.passed} passed, ${total.failed} failed`);
  process.exit(total.failed > 0 ? 1 : 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((a) => !allTiers.includes(a));
  if (unknown.length > 0) {
    console.error(`test-all: unknown tier ${unknown.map((a) => `'${a}'`).join(", ")}; valid tiers: ${allTiers.join(", ")} (none: all of them).`);
    process.exit(2);
  }
  main(requested.length > 0 ? [...new Set(requested)] : allTiers);
}
