import type { KeyType } from "./identifiers";
import { ASC_AUDIENCE } from "./token";

// Each `import()` goes through the module loader's resolution again (about a millisecond): one
// promise serves every later call, as one probe per key in a stack makes many.
let jose: Promise<typeof import("jose")> | undefined;
function loadJose(): Promise<typeof import("jose")> {
  // A load that failed (a transient EMFILE) is not kept: the next call tries again.
  jose ??= import("jose").catch((error: unknown) => {
    jose = undefined;
    throw error;
  });
  return jose;
}

/** What a token must say to pass {@link verifyToken}. */
export interface TokenExpectations {
  keyType: KeyType;
  /** The Issuer ID a team key's token carries as `iss`. */
  issuerId?: string;
  /** The time the token is checked at (its `iat` must be before, its `exp` after). */
  currentDate: Date;
}

/**
 * Verifies an ES256 token with a public key through jose, an implementation independent of the
 * signer in token.ts, so a key that signs garbage cannot pass its own check. jose is loaded on
 * first use: the runtime entry does not pay for it when it only mints tokens.
 * @returns true when the signature and the claims check out.
 * @internal
 */
export async function verifyToken(token: string, publicKeyPem: string, expected: TokenExpectations): Promise<boolean> {
  const { importSPKI, jwtVerify } = await loadJose();
  try {
    const publicKey = await importSPKI(publicKeyPem, "ES256");
    await jwtVerify(token, publicKey, {
      audience: ASC_AUDIENCE,
      ...(expected.keyType === "team" && expected.issuerId ? { issuer: expected.issuerId } : {}),
      ...(expected.keyType === "individual" ? { subject: "user" } : {}),
      currentDate: expected.currentDate,
      algorithms: ["ES256"],
    });
    return true;
  } catch {
    return false;
  }
}
