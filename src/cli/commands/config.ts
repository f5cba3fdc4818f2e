import { redact } from "../../core/redact";
import { applySteps, configSteps, formatSteps } from "../config-command";
import { CONFIG_KEY_HELP, credentialFromFlags, KEY_OPTIONS } from "../credential-options";
import { UsageError, type Command } from "../io";

/** `asc-credential config`: the `pulumi config set` commands for the key, or run them. */
export const command: Command = {
  help: `Usage: asc-credential config (--key FILE | --key-env VAR) [--issuer-id UUID] [--prefix NAME] [--stack STACK] [--apply]

Validates the key, then prints the \`pulumi config set\` commands that store it in a stack's
config (the key as a secret, on stdin: never in argv or shell history); --apply runs them with
\`pulumi\` from PATH. Exit codes: 0 done, 1 the key is invalid or pulumi failed, 2 usage error.

  --prefix NAME   config keys NAMEKeyId, NAMEPrivateKey (NAMEKeyType) as examples/per-integration
                  reads them; issuerId stays shared
  --stack STACK   the stack to set them on (default: the selected stack)
  --apply         run the commands instead of printing them

${CONFIG_KEY_HELP}
Examples:
  asc-credential config --key AuthKey_2X9R4HXF34.p8 --issuer-id <UUID> --stack prod --apply
  asc-credential config --key-env ASC_KEY --key-id 2X9R4HXF34 --issuer-id <UUID> --prefix ci
`,
  options: { ...KEY_OPTIONS, stack: { type: "string" }, prefix: { type: "string" }, apply: { type: "boolean" } },
  async run(values, io) {
    const file = typeof values.key === "string" ? values.key : undefined;
    const variable = typeof values["key-env"] === "string" ? values["key-env"] : undefined;
    if ((file === undefined && variable === undefined) || file === "-") {
      throw new UsageError("config needs --key FILE or --key-env VAR: the printed commands read the key from there, so it never lands in shell history");
    }
    const prefix = typeof values.prefix === "string" ? values.prefix : undefined;
    if (prefix !== undefined && !/^[a-z][A-Za-z0-9]{0,40}$/.test(prefix)) throw new UsageError(`--prefix must be a config key prefix like ci or pricing (letters and digits, starting lower-case), not '${redact(prefix).slice(0, 40)}'`);
    const stack = typeof values.stack === "string" ? values.stack : undefined;
    if (stack !== undefined && (!/^[\w.\-/]{1,100}$/.test(stack) || redact(stack) !== stack)) throw new UsageError(`--stack must be a stack name like prod or acme/app/prod, not '${redact(stack).slice(0, 40)}'`);
    const credential = await credentialFromFlags(values, io);
    const steps = configSteps({ ...credential, ...(stack ? { stack } : {}), ...(prefix ? { prefix } : {}) });
    if (!values.apply) {
      io.out(formatSteps(steps, file !== undefined ? { file } : { variable: variable! }));
      return 0;
    }
    try {
      return (await applySteps(steps, Buffer.from(credential.privateKey), (line) => io.err(line + "\n"))) === 0 ? 0 : 1;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      io.err(`asc-credential: could not run pulumi (${typeof code === "string" ? code : "error"}). Install the Pulumi CLI and put it on PATH, or run the printed commands (without --apply) yourself.\n`);
      return 1;
    }
  },
};
