/**
 * How a private key is refused: one error shape and the fixes the messages share. A message
 * describes what was seen in words and never contains any part of the input.
 * @packageDocumentation
 */
import { AscCredentialError, type ErrorCode } from "./errors";

/** Where to get the right file. */
export const FIX_DOWNLOAD =
  "Use the AuthKey_<KEYID>.p8 file App Store Connect let you download (Users and Access > Integrations > App Store Connect API)";
/** For a copy that lost part of the key on the way: the original is fine, copy it again. */
export const FIX_COPY_AGAIN =
  "Copy the whole AuthKey_<KEYID>.p8 file again from the original; only if the original is lost, revoke the key in App Store Connect and create a new one.";

/** Throws the `privateKey` error `code` with `message`. */
export function fail(code: ErrorCode, message: string): never {
  throw new AscCredentialError(code, message, "privateKey");
}
