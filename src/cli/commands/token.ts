import { createToken } from "../../core/token";
import { credentialFromFlags, KEY_HELP, KEY_OPTIONS } from "../credential-options";
import { UsageError, type Command } from "../io";

/** `asc-credential token`: one JWT for the App Store Connect API, for curl. */
export const command: Command = {
  help: `Usage: asc-credential token [key options] [--lifetime SECONDS] [--scope "METHOD /path"]...

Prints one ES256 JWT for the App Store Connect API on stdout (the only command that prints a
token, by design). Exit codes: 0 printed, 1 the key or an option is invalid, 2 usage error.

  --lifetime SECONDS   1 to 1200 (Apple's cap); default 900
  --scope "GET /v1/apps"
                       restrict the token to these requests (repeatable)

${KEY_HELP}
Example:
  curl -H "Authorization: Bearer $(asc-credential token --key AuthKey_2X9R4HXF34.p8 --issuer-id <UUID>)" \\
    https://api.appstoreconnect.apple.com/v1/apps?limit=1
`,
  options: { ...KEY_OPTIONS, lifetime: { type: "string" }, scope: { type: "string", multiple: true } },
  async run(values, io) {
    const lifetime = values.lifetime;
    if (lifetime !== undefined && (typeof lifetime !== "string" || !/^\d+$/.test(lifetime))) throw new UsageError("--lifetime must be a whole number of seconds (1 to 1200)");
    const credential = await credentialFromFlags(values, io);
    const jwt = await createToken(credential, {
      ...(typeof lifetime === "string" ? { lifetimeSeconds: Number(lifetime) } : {}),
      ...(Array.isArray(values.scope) ? { scope: values.scope } : {}),
    });
    io.out(jwt + "\n");
    return 0;
  },
};
