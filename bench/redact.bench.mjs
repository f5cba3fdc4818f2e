// Redaction time against input size, for the inputs a hostile server (or a pasted file) can send:
// each shape at 200 k and 800 k characters, `redact` and `redactKnown` together. Linear time makes
// the 4x input take ~4x as long (a little more with garbage collection); one backtracking pattern
// makes it ~16x (hours for a megabyte). Goal: t(800 k) / t(200 k) <= 8 for every shape. src/core/redact.ts is internal, so it is bundled
// here from source with esbuild (as `npm run build` bundles it into every entry point).
// Usage: node bench/redact.bench.mjs [--rounds N] [--json]. Exits 1 when a goal is missed.
import { buildSync } from "esbuild";
import { generateKeyPairSync } from "node:crypto";
import { createRequire } from "node:module";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { jsonOutput, machine, median, numberOption, root } from "./common.mjs";

const ROUNDS = numberOption("rounds", 7);
const dir = mkdtempSync(path.join(tmpdir(), "asc-redact-bench-"));
const file = path.join(dir, "redact.cjs");
const { outputFiles } = buildSync({ entryPoints: [path.join(root, "src", "core", "redact.ts")], bundle: true, platform: "node", format: "cjs", target: "node22", write: false });
writeFileSync(file, outputFiles[0].text);
const { redact, redactKnown } = createRequire(import.meta.url)(file);
rmSync(dir, { recursive: true, force: true });

const TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXZhbHVl";
// The first line of a key generated here: no key text, not even its header, is kept in the repository.
const PEM_HEADER = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).split("\n")[0];
const SHAPES = {
  "a run of dashes": (n) => "-".repeat(n),
  "a PEM header and then dashes": (n) => `${PEM_HEADER}\n${"-".repeat(n)}`,
  "one base64url run": (n) => "a".repeat(n),
  "one base64url run with a dot at the end": (n) => `${"a".repeat(n)}.b`,
  "dot-joined runs": (n) => "abcdefgh.".repeat(Math.floor(n / 9)),
  "PEM markers and spaces": (n) => `BEGIN${" ".repeat(n)}`,
  "dashes and spaces": (n) => "-- ".repeat(Math.floor(n / 3)),
  "percent escapes": (n) => "%41".repeat(Math.floor(n / 3)),
  "CamelCase": (n) => "Abc".repeat(Math.floor(n / 3)),
  "hex bytes with colons": (n) => "ab:".repeat(Math.floor(n / 3)),
};

function timeOf(text) {
  const started = performance.now();
  redact(text);
  redactKnown(text, [TOKEN]);
  return performance.now() - started;
}

const rows = [];
let missed = 0;
for (const [shape, make] of Object.entries(SHAPES)) {
  const small = make(200_000);
  const large = make(800_000);
  timeOf(small);
  timeOf(large);
  const t1 = median(Array.from({ length: ROUNDS }, () => timeOf(small)));
  const t4 = median(Array.from({ length: ROUNDS }, () => timeOf(large)));
  const ratio = t4 / Math.max(t1, 0.05);
  const met = ratio <= 8;
  if (!met) missed++;
  rows.push({ shape, ms200k: t1, ms800k: t4, ratio, met });
}

if (jsonOutput) console.log(JSON.stringify({ machine: machine(), rows }, null, 2));
else {
  console.log(`redact + redactKnown, median of ${ROUNDS}; ${process.version}`);
  for (const r of rows) console.log(`  ${r.shape.padEnd(42)} 200k ${r.ms200k.toFixed(1).padStart(7)} ms  800k ${r.ms800k.toFixed(1).padStart(7)} ms  ratio ${r.ratio.toFixed(2)} (goal <= 8) ${r.met ? "PASS" : "MISS"}`);
}
process.exit(missed > 0 ? 1 : 0);
