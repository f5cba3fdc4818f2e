// Token minting throughput, side by side in one process:
//   (a) floor   – raw node:crypto ES256 with a pre-imported KeyObject (what any signer must do)
//   (b) package – createToken() from the BUILT package, same credential every call (cached key)
//   (c) jose    – SignJWT with a key pre-imported by importPKCS8
// Goal: (b) >= 0.8 x (a). Run `npm run build` first, then `node bench/tokens.bench.mjs`.
// Options: --rounds N (default 15), --ms N per variant per round (default 500), --json.
import { createPrivateKey, generateKeyPairSync, sign } from "node:crypto";
import { SignJWT, importPKCS8 } from "jose";
import { jsonOutput as JSON_OUT, loadBuilt, machine, median, numberOption, require } from "./common.mjs";

const { createToken, clearSigningKeyCache } = loadBuilt("runtime/index.js");
const ROUNDS = numberOption("rounds", 15);
const MS = numberOption("ms", 500);

// A fresh key per run: nothing secret is ever written to disk or printed.
const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const keyId = "2X9R4HXF34";
const issuerId = "57246542-96fe-1a63-e053-0824d011072a";
const aud = "appstoreconnect-v1";
const credential = { keyId, issuerId, privateKey: pem };

const floorKey = createPrivateKey(pem);
function floorToken() {
  const iat = Math.floor(Date.now() / 1000);
  const header = Buffer.from(JSON.stringify({ alg: "ES256", kid: keyId, typ: "JWT" })).toString("base64url");
  const payload = Buffer.from(JSON.stringify({ iss: issuerId, iat, exp: iat + 900, aud })).toString("base64url");
  const input = header + "." + payload;
  return input + "." + sign("sha256", Buffer.from(input), { key: floorKey, dsaEncoding: "ieee-p1363" }).toString("base64url");
}

const joseKey = await importPKCS8(pem, "ES256");
function joseToken() {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: keyId, typ: "JWT" })
    .setIssuer(issuerId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 900)
    .setAudience(aud)
    .sign(joseKey);
}

const variants = {
  floor: { label: "(a) node:crypto floor", sync: floorToken },
  package: { label: "(b) createToken (cached key)", async: () => createToken(credential) },
  jose: { label: "(c) jose SignJWT (pre-imported)", async: joseToken },
};

async function run(variant, ms) {
  let count = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  // Check the clock every 64 tokens: hrtime per token would itself cost a few percent.
  for (;;) {
    if (variant.sync) for (let i = 0; i < 64; i++) sink += variant.sync().length;
    else for (let i = 0; i < 64; i++) sink += (await variant.async()).length;
    count += 64;
    const now = process.hrtime.bigint();
    if (now >= deadline) return { perSecond: (count * 1e9) / Number(now - start), sink };
  }
}


// Sanity: all three produce three-part tokens of the same shape before anything is timed.
for (const [name, v] of Object.entries(variants)) {
  const token = v.sync ? v.sync() : await v.async();
  if (token.split(".").length !== 3) throw new Error(`bench: ${name} produced no JWT`);
}

clearSigningKeyCache();
for (const v of Object.values(variants)) await run(v, Math.min(500, MS)); // warm-up (JIT, key cache)

const results = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order so no variant always runs first (CPU boost, GC debt from the previous one).
  const names = Object.keys(variants);
  const order = names.slice(round % names.length).concat(names.slice(0, round % names.length));
  for (const name of order) results[name].push((await run(variants[name], MS)).perSecond);
}

const summary = {
  ...machine(),
  jose: require("jose/package.json").version,
  rounds: ROUNDS,
  msPerVariantPerRound: MS,
  tokensPerSecond: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { median: Math.round(median(v)), min: Math.round(Math.min(...v)), max: Math.round(Math.max(...v)) }])),
};
// Ratios are taken per round (the variants of one round ran back to back, under the same load
// from the rest of the machine) and then the median of those is reported.
const pairedRatio = (name) => Math.round(median(results[name].map((v, i) => v / results.floor[i])) * 1000) / 1000;
summary.ratioPackageToFloor = pairedRatio("package");
summary.ratioJoseToFloor = pairedRatio("jose");
summary.goalMet = summary.ratioPackageToFloor >= 0.8;

if (JSON_OUT) {
  console.log(JSON.stringify(summary, null, 2));
} else {
  console.log(`Token minting, ${ROUNDS} rounds x ${MS} ms per variant (median tokens/s, min-max)`);
  console.log(`${summary.date} | node ${summary.node} | jose ${summary.jose} | ${summary.nproc} x ${summary.cpu} | ${summary.memoryGiB} GiB`);
  for (const [name, v] of Object.entries(variants)) {
    const r = summary.tokensPerSecond[name];
    console.log(`${v.label.padEnd(34)} ${String(r.median).padStart(8)}  (${r.min}-${r.max})`);
  }
  console.log(`load average during the run: ${summary.loadAverage.join(" ")}`);
  console.log(`median per-round ratio (b)/(a) = ${summary.ratioPackageToFloor} (goal >= 0.8: ${summary.goalMet ? "met" : "MISSED"}); ratio (c)/(a) = ${summary.ratioJoseToFloor}`);
}
if (!summary.goalMet) process.exitCode = 1;
