// `npm run bench [-- name...]`: runs the benchmarks against the built package, one after another
// so they do not compete for the 2 cores. Names: every bench/<name>.bench.mjs (default: all).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { root } from "./common.mjs";

const available = readdirSync(path.join(root, "bench")).filter((f) => f.endsWith(".bench.mjs")).map((f) => f.replace(".bench.mjs", ""));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = wanted.filter((n) => !available.includes(n));
if (unknown.length > 0) {
  console.error(`bench: unknown ${unknown.join(", ")}; available: ${available.join(", ")}`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : available) {
  console.log(`\n== bench: ${name}`);
  const { status } = spawnSync(process.execPath, [path.join(root, "bench", `${name}.bench.mjs`)], { stdio: "inherit" });
  if (status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
