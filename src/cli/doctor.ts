import { DEFAULT_ASC_BASE_URL } from "../apple/options";
import { probeCredential } from "../apple/probe-credential";
import type { ErrorCode } from "../core/errors";
import { renamedKeyFile, type ValidationIssue } from "../core/identifiers";
import { redact } from "../core/redact";
import { validateCredential } from "../core/validate";
import { describeSource, type ResolvedCredential } from "../runtime/resolve";
import { permissionProblem } from "./credential-options";
import type { CheckStatus, DoctorCheck, DoctorReport } from "./doctor-report";
import { FIXES } from "./fixes";
import { environmentSecrets, scrubbed, type Io } from "./io";

export type { CheckStatus, DoctorCheck, DoctorReport } from "./doctor-report";

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  online: boolean;
  baseUrl?: string;
  /** The online call's per-attempt timeout and retries. */
  timeoutMs?: number;
  retries?: number;
}

const pass = (id: string, message: string): DoctorCheck => ({ id, status: "pass", code: null, message, fix: null });
const skip = (id: string, message: string): DoctorCheck => ({ id, status: "skip", code: null, message, fix: null });
const fail = (id: string, code: ErrorCode, message: string, fix: string): DoctorCheck => ({ id, status: "fail", code, message, fix });

const KEY_ID_SOURCES: Record<string, DoctorReport["credential"]["keyIdSource"]> = { "--key-id": "flag", "the file name": "filename", "the secret": "store" };

/** Runs every check it can, in order, and never throws on a bad credential. */
export async function runDoctor(resolved: ResolvedCredential, options: DoctorOptions): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const source = resolved.source;
  const report: DoctorReport = {
    schemaVersion: 1,
    ok: false,
    credential: {
      keySource: source?.kind ?? null,
      keySourceName: source?.name ?? null,
      // What was given, redacted: the report shows an identifier, never a key pasted in its place.
      keyId: resolved.keyId ? redact(resolved.keyId.value) : null,
      keyIdSource: resolved.keyId ? (KEY_ID_SOURCES[resolved.keyId.from] ?? "env") : null,
      issuerId: resolved.issuerId ? redact(resolved.issuerId.value) : null,
      keyType: resolved.keyType.value,
      fingerprint: null,
    },
    online: null,
    checks,
  };

  const [problem] = resolved.problems;
  if (problem) checks.push(fail("key-source", problem.code, problem.message, FIXES[problem.code] ?? "see the message"));
  else if (!source || !resolved.bytes) checks.push(fail("key-source", "KEY_EMPTY", "no private key was given", FIXES.KEY_EMPTY ?? "pass --key"));
  else checks.push(pass("key-source", `read ${describeSource(source)} (${resolved.bytes.length} bytes)`));
  if (source?.kind === "file" && resolved.mode !== undefined && process.platform !== "win32") {
    const readable = permissionProblem(resolved);
    checks.push(readable ? { id: "key-permissions", status: "warn", code: null, message: readable.message, fix: readable.fix } : pass("key-permissions", "only the owner can read the key file"));
  }

  const readable = !problem && resolved.bytes !== undefined;
  const validation = validateCredential({
    keyId: resolved.keyId?.value ?? "",
    privateKey: readable ? new Uint8Array(resolved.bytes!) : "",
    keyType: resolved.keyType.value,
    ...(resolved.issuerId ? { issuerId: resolved.issuerId.value } : {}),
    ...(resolved.fileName ? { privateKeyFileName: resolved.fileName } : {}),
  });
  const byField = (field: ValidationIssue["field"]): ValidationIssue[] => validation.issues.filter((issue) => issue.field === field);

  const keyIssues = byField("privateKey");
  if (!readable) checks.push(skip("private-key", "not checked: the key could not be read"));
  else if (keyIssues.length > 0) checks.push(fromIssues("private-key", keyIssues));
  else if (validation.key) {
    report.credential.fingerprint = validation.key.fingerprint;
    checks.push(pass("private-key", `EC P-256 private key, fingerprint ${validation.key.fingerprint}`));
  }

  const keyIdIssues = byField("keyId");
  if (!resolved.keyId) checks.push(fail("key-id", "KEY_ID_INVALID", `no key ID: not given${source?.kind === "file" ? " and the file is not named AuthKey_<KEYID>.p8" : ""}`, FIXES.KEY_ID_INVALID ?? "pass --key-id"));
  else if (keyIdIssues.length > 0) checks.push(fromIssues("key-id", keyIdIssues));
  else {
    const renamed = resolved.fileName ? renamedKeyFile(resolved.fileName) : undefined;
    checks.push(
      renamed
        ? { id: "key-id", status: "warn", code: null, message: `${resolved.keyId.value} (from ${resolved.keyId.from}); the file's name is a browser's name for a second download, and tools that find keys by name (altool, codemagic) look for ${renamed}`, fix: `rename the file to ${renamed}` }
        : pass("key-id", `${resolved.keyId.value} (from ${resolved.keyId.from})`),
    );
  }

  const issuerIssues = [...byField("issuerId"), ...byField("keyType")];
  if (issuerIssues.length > 0) checks.push(fromIssues("issuer-id", issuerIssues));
  else checks.push(pass("issuer-id", resolved.keyType.value === "individual" ? "none, as an individual key needs" : `${resolved.issuerId?.value} (team key, from ${resolved.issuerId?.from})`));

  const input = {
    keyId: resolved.keyId?.value ?? "",
    privateKey: readable ? new Uint8Array(resolved.bytes!) : "",
    keyType: resolved.keyType.value,
    ...(resolved.issuerId ? { issuerId: resolved.issuerId.value } : {}),
  };
  const credentialOk = validation.ok && readable;
  if (!credentialOk) {
    checks.push(skip("signing", "not run: fix the failures above first"));
  } else {
    const offline = await probeCredential(input, { mode: "offline" });
    checks.push(offline.ok ? pass("signing", "signed a test token (ES256) and verified it with the key's public half") : fail("signing", offline.error?.code ?? "KEY_MALFORMED", offline.error?.message ?? "signing failed", FIXES[offline.error?.code ?? "KEY_MALFORMED"] ?? "see the message"));
  }

  if (!options.online) {
    checks.push(skip("api", "not run: add --online to call the App Store Connect API"));
  } else {
    const baseUrl = options.baseUrl ?? DEFAULT_ASC_BASE_URL;
    // As the report shows it: without a user name or password, and redacted like any input.
    const shownBaseUrl = redact(baseUrl.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1"));
    report.online = { baseUrl: shownBaseUrl, apiStatus: null, clockSkewSeconds: null };
    if (!credentialOk) {
      checks.push(skip("api", "not run: fix the failures above first"));
    } else {
      const online = await probeCredential(input, {
        mode: "online",
        baseUrl,
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.retries !== undefined ? { retries: options.retries } : {}),
      });
      report.online.apiStatus = online.apiStatus ?? null;
      report.online.clockSkewSeconds = online.clockSkewSeconds ?? null;
      checks.push(
        online.ok
          ? pass("api", `GET ${shownBaseUrl}/v1/apps?limit=1 answered HTTP ${online.apiStatus}`)
          : fail("api", online.error?.code ?? "API_UNEXPECTED", online.error?.message ?? "the API call failed", FIXES[online.error?.code ?? "API_UNEXPECTED"] ?? "see the message"),
      );
      if (online.clockSkewSeconds !== undefined) {
        checks.push(
          online.warnings && online.warnings.length > 0
            ? { id: "clock", status: "warn", code: null, message: online.warnings.join(" "), fix: "sync this machine's clock (NTP), or use a shorter token lifetime" }
            : pass("clock", `within ${Math.max(1, Math.abs(online.clockSkewSeconds))} s of the API's clock`),
        );
      }
    }
  }
  report.ok = checks.every((check) => check.status !== "fail");
  return report;
}

/** The report with the environment's secrets (the Vault token) cut out of every text in it. */
export function withoutSecrets(report: DoctorReport, io: Pick<Io, "env">): DoctorReport {
  if (environmentSecrets(io.env).length === 0) return report;
  return JSON.parse(JSON.stringify(report), (_key, value: unknown) => (typeof value === "string" ? scrubbed(value, io) : value)) as DoctorReport;
}

function fromIssues(id: string, issues: ValidationIssue[]): DoctorCheck {
  const first = issues[0]!;
  return fail(id, first.code, issues.map((issue) => issue.message).join(" "), FIXES[first.code] ?? "see the message");
}

const COLOURS: Record<CheckStatus, string> = { pass: "\x1b[32m", warn: "\x1b[33m", fail: "\x1b[31m", skip: "\x1b[2m" };

/** One line per check (plus an indented fix line for failures and warnings), then a summary. */
export function formatDoctor(report: DoctorReport, colour: boolean): string {
  const paint = (status: CheckStatus, text: string): string => (colour ? `${COLOURS[status]}${text}\x1b[0m` : text);
  const width = Math.max(...report.checks.map((check) => check.id.length));
  const lines = report.checks.map((check) => {
    const head = `${paint(check.status, check.status.toUpperCase().padEnd(4))}  ${check.id.padEnd(width)}  ${check.message}`;
    return check.fix && check.status !== "pass" ? `${head}\n      ${" ".repeat(width)}fix: ${check.fix}` : head;
  });
  const failed = report.checks.filter((check) => check.status === "fail").length;
  const warned = report.checks.filter((check) => check.status === "warn").length;
  const summary = failed > 0 ? paint("fail", `${failed} check${failed === 1 ? "" : "s"} failed`) : paint("pass", "all checks passed");
  return `${lines.join("\n")}\n${summary}${warned > 0 ? `, ${warned} warning${warned === 1 ? "" : "s"}` : ""}.\n`;
}
