import { UsageError, type Command } from "../io";
import { KEY_HELP, KEY_OPTIONS, readTimeout, resolveFromFlags } from "../credential-options";
import { formatDoctor, runDoctor, withoutSecrets } from "../doctor";

/** `asc-credential doctor`: every check of the key and its identifiers, each with its fix. */
export const command: Command = {
  help: `Usage: asc-credential doctor [key options] [--online [--base-url URL]] [--json]

Checks the key and its identifiers and prints one line per check with its fix; with --online it
also calls GET /v1/apps?limit=1 on the App Store Connect API.
Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 usage error.

  --online           call the App Store Connect API with a freshly signed token
  --base-url URL     the API's base URL (default https://api.appstoreconnect.apple.com)
  --json             print the report as JSON (schema: DoctorReport, schemaVersion 1)

${KEY_HELP}
Examples:
  asc-credential doctor --key AuthKey_2X9R4HXF34.p8 --issuer-id 57246542-96fe-1a63-e053-0824d011072a
  asc-credential doctor --secret-id app-store-connect/ci --online --json
  VAULT_ADDR=https://vault.example.com:8200 asc-credential doctor --vault-path app-store-connect/ci --vault-version previous
`,
  options: { ...KEY_OPTIONS, online: { type: "boolean" }, "base-url": { type: "string" }, json: { type: "boolean" } },
  async run(values, io) {
    const baseUrl = values["base-url"];
    if (baseUrl !== undefined && (typeof baseUrl !== "string" || !/^https?:\/\/\S+$/.test(baseUrl))) throw new UsageError("--base-url must be an http(s) URL");
    const resolved = await resolveFromFlags(values, io);
    const report = withoutSecrets(await runDoctor(resolved, { online: values.online === true, timeoutMs: readTimeout(values), ...(typeof baseUrl === "string" ? { baseUrl } : {}) }), io);
    io.out(values.json ? JSON.stringify(report, null, 2) + "\n" : formatDoctor(report, io.colour));
    return report.ok ? 0 : 1;
  },
};
