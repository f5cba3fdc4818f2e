import { keyFromFlags, KEY_HELP, KEY_OPTIONS } from "../credential-options";
import type { Command } from "../io";

/** `asc-credential fingerprint`: the public key's fingerprint, to compare with the stack output. */
export const command: Command = {
  help: `Usage: asc-credential fingerprint [key options]

Prints sha256:<hex> of the key's public half: the same value as \`pulumi stack output fingerprint\`.
Only the key is needed (no Key ID or Issuer ID). Exit codes: 0 printed, 1 the key is invalid,
2 usage error.

${KEY_HELP}
Example:
  asc-credential fingerprint --key AuthKey_2X9R4HXF34.p8
`,
  options: KEY_OPTIONS,
  async run(values, io) {
    io.out((await keyFromFlags(values, io)).fingerprint + "\n");
    return 0;
  },
};
