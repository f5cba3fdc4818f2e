// CLI startup: a cold `asc-credential fingerprint --key FILE` (the built bin, which loads only
// the command it runs) against the same job written by hand with node:crypto, side by side in one
// run (rotating order, median of per-round ratios). Goal: CLI <= 1.30 x hand-written.
// Usage: node bench/cli-startup.bench.mjs [--rounds N] [--json]   (after `npm run build`)
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { jsonOutput, loadBuilt, machine, numberOption, root, sideBySide, versions } from "./common.mjs";

const ROUNDS = numberOption("rounds", 40);
loadBuilt("cli/main.js");
const HAND = `
const { createHash, createPrivateKey, createPublicKey } = require("node:crypto");
const { readFileSync } = require("node:fs");
const der = createPublicKey(createPrivateKey(readFileSync(process.argv[2]))).export({ type: "spki", format: "der" });
process.stdout.write("sha256:" + createHash("sha256").update(der).digest("hex") + "\\n");
`;

const dir = mkdtempSync(path.join(tmpdir(), "asc-cli-startup-"));
try {
  const keyFile = path.join(dir, "AuthKey_2X9R4HXF34.p8");
  writeFileSync(keyFile, generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  writeFileSync(path.join(dir, "hand.js"), HAND);
  const env = { PATH: process.env.PATH, HOME: dir };
  const goal = 1.3;
  const measured = sideBySide(
    {
      hand: { args: [path.join(dir, "hand.js"), keyFile], env, output: /^sha256:[0-9a-f]{64}\n$/ },
      cli: { args: [path.join(root, "dist", "cli", "main.js"), "fingerprint", "--key", keyFile], env, output: /^sha256:[0-9a-f]{64}\n$/ },
    },
    { cli: ["cli", "hand"] },
    ROUNDS,
    dir,
  );
  const result = { machine: machine(), versions: versions(), rounds: ROUNDS, ...measured, goal };
  if (jsonOutput) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`CLI startup, ${ROUNDS} rounds, ${result.machine.node}, load ${result.machine.loadAverage.join(" ")}`);
    console.log(`  hand-written  median ${result.medianMs.hand} ms`);
    console.log(`  asc-credential fingerprint  median ${result.medianMs.cli} ms`);
    console.log(`  CLI / hand-written = ${result.ratio.cli} (goal <= ${goal})`);
  }
  process.exitCode = result.ratio.cli <= goal ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
