import type { ErrorCode } from "../core/errors";
import type { ValidationIssue } from "../core/identifiers";
import { validateCredential } from "../core/validate";
import { DEFAULT_ASC_BASE_URL } from "../apple/options";
import { probeCredential } from "../apple/probe-credential";
import { describeSource, type ResolvedKey } from "./credential-args";
import type { CheckStatus, DoctorCheck, DoctorReport } from "./doctor-report";
import { FIXES } from "./fixes";

export type { CheckStatus, DoctorCheck, DoctorReport } from "./doctor-report";

export interface DoctorOptions {
  online: boolean;
  baseUrl?: string;
  /** For tests: the online call's per-attempt timeout and retries. */
  timeoutMs?: number;
  retries?: number;
}

const pass = (id: string, message: string): DoctorCheck => ({ id, status: "pass", code: null, message, fix: null });
const skip = (id: string, message: string): DoctorCheck => ({ id, status: "skip", code: null, message, fix: null });
const fail = (id: string, code: ErrorCode, message: string, fix: string): DoctorCheck => ({ id, status: "fail", code, message, fix });

/** Runs every check it can, in order, and never throws on a bad credential. */
export async function runDoctor(key: ResolvedKey, options: DoctorOptions): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const report: DoctorReport = {
    schemaVersion: 1,
    ok: false,
    credential: {
      keySource: key.source.kind,
      keySourceName: key.source.kind === "file" ? key.source.path : key.source.variable,
      keyId: key.keyId ?? null,
      keyIdSource: key.keyIdSource ?? null,
      issuerId: key.issuerId ?? null,
      keyType: key.keyType,
      fingerprint: null,
    },
    online: null,
    checks,
  };

  if (key.readProblem) {
    checks.push(fail("key-source", key.readProblem.code, key.readProblem.message, key.readProblem.fix));
  } else {
    checks.push(pass("key-source", `read ${describeSource(key.source)} (${key.bytes?.length ?? 0} bytes)`));
  }
  if (key.source.kind === "file" && key.mode !== undefined && process.platform !== "win32") {
    const open = key.mode & 0o077;
    checks.push(
      open === 0
        ? pass("key-permissions", "only the owner can read the key file")
        : { id: "key-permissions", status: "warn", code: null, message: `the key file is readable${open & 0o007 ? " by every user" : " by its group"} (mode ${(key.mode & 0o777).toString(8)})`, fix: `chmod 600 ${shellQuote(key.source.path)}` },
    );
  }

  const validation = validateCredential({
    keyId: key.keyId ?? "",
    privateKey: key.bytes ?? "",
    keyType: key.keyType,
    ...(key.issuerId !== undefined ? { issuerId: key.issuerId } : {}),
    ...(key.source.kind === "file" ? { privateKeyFileName: key.source.path } : {}),
  });
  const byField = (field: ValidationIssue["field"]): ValidationIssue[] => validation.issues.filter((issue) => issue.field === field);

  const keyIssues = byField("privateKey");
  if (!key.bytes) checks.push(skip("private-key", "not checked: the key could not be read"));
  else if (keyIssues.length > 0) checks.push(fromIssues("private-key", keyIssues));
  else if (validation.key) {
    report.credential.fingerprint = validation.key.fingerprint;
    checks.push(pass("private-key", `EC P-256 private key, fingerprint ${validation.key.fingerprint}`));
  }

  const keyIdIssues = byField("keyId");
  if (key.keyId === undefined) {
    checks.push(fail("key-id", "KEY_ID_INVALID", "no key ID: not given and the file is not named AuthKey_<KEYID>.p8", FIXES.KEY_ID_INVALID ?? "pass --key-id"));
  } else if (keyIdIssues.length > 0) {
    checks.push(fromIssues("key-id", keyIdIssues));
  } else {
    const from = key.keyIdSource === "filename" ? "from the file name" : key.keyIdSource === "env" ? "from APP_STORE_CONNECT_KEY_ID" : "from --key-id";
    checks.push(pass("key-id", `${key.keyId} (${from})`));
  }

  const issuerIssues = [...byField("issuerId"), ...byField("keyType")];
  if (issuerIssues.length > 0) checks.push(fromIssues("issuer-id", issuerIssues));
  else checks.push(pass("issuer-id", key.keyType === "individual" ? "none, as an individual key needs" : `${key.issuerId} (team key)`));

  const input = {
    keyId: key.keyId ?? "",
    privateKey: key.bytes ?? "",
    keyType: key.keyType,
    ...(key.issuerId !== undefined ? { issuerId: key.issuerId } : {}),
  };
  const credentialOk = validation.ok && key.bytes !== undefined;
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
    report.online = { baseUrl, apiStatus: null, clockSkewSeconds: null };
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
          ? pass("api", `GET ${baseUrl}/v1/apps?limit=1 answered HTTP ${online.apiStatus}`)
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

function fromIssues(id: string, issues: ValidationIssue[]): DoctorCheck {
  const first = issues[0]!;
  return fail(id, first.code, issues.map((issue) => issue.message).join(" "), FIXES[first.code] ?? "see the message");
}

/** Quotes a value for a POSIX shell when it needs it. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
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
