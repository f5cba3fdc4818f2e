// The runtime entry, as a Lambda imports it, and the doctor --json schema.
import { AscTokenSource, isAscCredentialError, type DoctorReport, type ProbeResult } from "pulumi-asc-credential/runtime";

export function fromEnv(): AscTokenSource {
  return AscTokenSource.fromEnv();
}
export function failed(report: DoctorReport): string[] {
  return report.checks.filter((c) => c.status === "fail").map((c) => `${c.id}: ${c.code ?? ""}`);
}
export function probeOk(result: ProbeResult): boolean {
  return result.ok;
}
export const check = isAscCredentialError;
