/**
 * Decoding of the App Store Connect API's error documents
 * (`{"errors":[{"status","code","title","detail",...}]}`) into short, safe text.
 */

/** One entry of Apple's `errors` array, as far as this package reads it. */
export interface AppleErrorEntry {
  status?: string;
  code?: string;
  title?: string;
  detail?: string;
}

/** Returns the entries when `body` is Apple's error JSON, `undefined` otherwise. */
export function parseAppleErrors(body: string): AppleErrorEntry[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const entries: AppleErrorEntry[] = [];
  for (const raw of errors) {
    if (raw === null || typeof raw !== "object") return undefined;
    const entry: AppleErrorEntry = {};
    for (const field of ["status", "code", "title", "detail"] as const) {
      const value = (raw as Record<string, unknown>)[field];
      if (typeof value === "string") entry[field] = value;
    }
    if (entry.status === undefined && entry.code === undefined) return undefined;
    entries.push(entry);
  }
  return entries;
}

/**
 * Apple's text, made safe to print: a server could echo the bearer token back, so anything
 * token-shaped is cut, and the text is bounded.
 */
export function describeAppleErrors(entries: AppleErrorEntry[]): string {
  return entries
    .slice(0, 3)
    .map((e) => [e.code, e.title, e.detail].filter(Boolean).join(": "))
    .map(redactTokens)
    .map((text) => (text.length > 300 ? text.slice(0, 297) + "..." : text))
    .join("; ");
}

/** Removes JWT-shaped runs (three base64url segments) from text. */
export function redactTokens(text: string): string {
  return text.replace(/[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, "[token removed]");
}
