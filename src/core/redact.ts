/**
 * The one redaction function. Every user-supplied string that can reach text (a message, a
 * warning, `--json`, a CheckFailure) and every server-supplied string passes through
 * {@link redact} first, whatever slot it came from: a path, a variable name, an ID or a URL can
 * hold a pasted key. Rules: README "Everything that leaves the package".
 * @packageDocumentation
 */

// Every pattern starts a match only where a run starts (the lookbehinds): tried at each position
// of a long run, a greedy `-{2,}` or `[...]{8,}` would rescan the rest of it, and a server's body of
// a million dashes would then block the process for hours.
const PEM_BLOCK = /(?<!-)-{2,}\s*BEGIN[^-\n]{0,40}-{2,}[\s\S]*?(?:(?<!-)-{2,}\s*END[^-\n]{0,40}-{2,}|$)/g;
// A PEM marker whose dashes a chat tool or word processor changed (long dashes, underscores,
// fewer of them): BEGIN ... KEY with a fence of any dash-like character on either side. Named in
// words, without a fence ("it has no BEGIN PRIVATE KEY line"), it is a message's own text and stays.
const FENCE = "\\-\\u2010-\\u2015\\u2212\\uFE58\\uFE63\\uFF0D_=~";
const MARKER = "(?:BEGIN|END)\\s+(?:[A-Z0-9]+\\s+){0,3}(?:PRIVATE KEY|PUBLIC KEY|CERTIFICATE|PGP MESSAGE)";
const PEM_MARKER = new RegExp(`(?<![${FENCE}])[${FENCE}]+\\s*${MARKER}\\b|\\b${MARKER}(?=\\s*[${FENCE}])`, "g");
// Three dot-joined base64url segments (a JWT), also with percent-encoded or escaped dots. Parts of
// a token split across lines, or a signature alone, are long opaque runs (below).
const TOKEN = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{8,}(?:\.|%2[Ee]|\\u002[Ee])[A-Za-z0-9_-]{8,}(?:\.|%2[Ee]|\\u002[Ee])[A-Za-z0-9_-]{8,}/g;
// Runs over the base64, base64url and hex alphabets; percent escapes (%2B, %2F, %3D) count as
// part of a run, so URL-encoded base64 is judged whole.
const RUN = /(?:[A-Za-z0-9+/=_-]|%[0-9A-Fa-f]{2})+/g;
// Bytes in hexadecimal with something between them: a hex dump (xxd, hexdump -C, od), openssl's
// colon-separated `-text` output, a C array. Groups of 2 to 8 digits (optionally 0x), joined by
// spaces, line breaks, `:`, `.` or `,`, or single bytes joined by `-` (a dash between longer
// groups is a UUID's, cut short or not); judged by the digits they hold together.
const HEX_GROUPS = /(?<![0-9A-Za-z\uE000])(?:0[xX])?(?:[0-9A-Fa-f]{2}){1,4}(?![0-9A-Za-z\uE000])(?:[ \t]*(?:[:.,][ \t]*)?(?:\r?\n[ \t]*)?(?:0[xX])?(?:[0-9A-Fa-f]{2}){1,4}(?![0-9A-Za-z\uE000]))+|(?<![0-9A-Za-z\uE000-])[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}(?![0-9A-Za-z\uE000]))+/g;
// Bytes in decimal, 12 or more joined by commas: a Node Buffer as JSON ({"type":"Buffer","data":[…]}),
// a byte list a script printed.
const DECIMAL_BYTES = /(?<![\d.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])(?:[ \t]*,[ \t]*(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])){11,}/g;
// Shown as they are: Issuer IDs, public-key fingerprints (a hash of the public half), and macOS's
// per-user temporary directory (/var/folders/xx/<hash of the user>/T/, the $TMPDIR of every Mac).
const SHOWN = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b|\bsha256:[0-9a-f]{64}\b|\/var\/folders\/[0-9a-z_+-]{2}\/[0-9a-z_+-]{10,40}\/[TC]\//g;

// Marks a set-aside UUID; a private-use character, outside every run alphabet above.
const MARK = "\uE000";
const MARKED = /\uE000(\d+)\uE000/g;

/** How long a run must be before it is judged: a leak is a 12-character run of the key. */
const JUDGED_RUN = 12;

// The shapes of a piece (a run split at / + = _ - and percent escapes) that ordinary names have:
// words, numbers, CamelCase with acronyms (AuthKey, AWSReservedSSO), upper-case IDs of up to 10
// characters (a Key ID, a Team ID), and anything up to 6 characters (an AWS name suffix). Base64
// of random bytes almost never forms one of them over 7 characters or more, so any other piece
// marks its whole run as opaque.
const SHORT_PIECE = 6;
const PLAIN_PIECE = [
  /^[0-9]+$/,
  /^[a-z]+[0-9]*$/,
  /^[A-Z][a-z]+[0-9]*$/,
  /^[A-Z]+[0-9]*$/,
  /^[A-Z0-9]{1,10}$/,
  /^[A-Z]*(?:[A-Z][a-z]{2,})+[A-Z]*[0-9]*$/,
  /^[a-z]+(?:[A-Z][a-z]{2,})+[0-9]*$/,
];

/**
 * A hex group run that is a dump: 12 or more digits, letters and digits both (dates and versions
 * are digits only), its letters in one case (as every dump tool prints them; names are not).
 */
function isHexDump(groups: string): boolean {
  const digits = groups.replace(/0[xX]/g, "").replace(/[^0-9A-Fa-f]/g, "");
  return digits.length >= JUDGED_RUN && /[0-9]/.test(digits) && (/^[0-9a-f]*[a-f][0-9a-f]*$/.test(digits) || /^[0-9A-F]*[A-F][0-9A-F]*$/.test(digits));
}

function isOpaque(run: string): boolean {
  if (run.length < JUDGED_RUN) return false;
  return run
    .split(/[/+=_-]|%[0-9A-Fa-f]{2}/)
    .some((piece) => piece.length > SHORT_PIECE && !PLAIN_PIECE.some((shape) => shape.test(piece)));
}

/**
 * `text` with every PEM block, PEM marker, token, hex or decimal byte dump and long opaque run
 * (base64, base64url or hex that could be a slice of a key or a token) replaced by a bracketed
 * note. UUIDs, fingerprints, numbers, names, paths and IDs stay readable. Idempotent; never throws.
 */
export function redact(text: string): string {
  if (typeof text !== "string") return "";
  // Set aside, so their hex groups are not judged as runs.
  const shown: string[] = [];
  const masked = text.replace(SHOWN, (value) => `${MARK}${shown.push(value) - 1}${MARK}`);
  const redacted = masked
    .replace(PEM_BLOCK, "[PEM block removed]")
    .replace(PEM_MARKER, "[PEM marker removed]")
    .replace(TOKEN, "[token removed]")
    .replace(HEX_GROUPS, (groups) => (isHexDump(groups) ? `[${groups.length} characters removed]` : groups))
    .replace(DECIMAL_BYTES, (bytes) => `[${bytes.length} characters removed]`)
    .replace(RUN, (run) => (isOpaque(run) ? `[${run.length} characters removed]` : run));
  return redacted.replace(MARKED, (_, i: string) => shown[Number(i)] ?? "");
}

// The escapes a server may wrap an echoed secret in: percent-encoding, JSON and JavaScript `\u`
// and `\x` escapes, HTML numeric entities. Read at one position at a time (sticky).
const ESCAPE = /%([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})|&#[xX]([0-9A-Fa-f]{1,6});|&#([0-9]{1,7});/y;
const ALNUM = /^[A-Za-z0-9]$/;

/**
 * The letters and digits of `text`, escapes decoded, everything else dropped; with where each
 * one stands in `text` (`from` to `to`). A secret echoed in pieces, one character per escape, or
 * with separators woven in reads whole in this stream.
 */
function letterStream(text: string): { letters: string; from: number[]; to: number[] } {
  let letters = "";
  const from: number[] = [];
  const to: number[] = [];
  for (let i = 0; i < text.length; ) {
    ESCAPE.lastIndex = i;
    const escape = ESCAPE.exec(text);
    let c = text[i]!;
    let width = 1;
    if (escape) {
      const code = escape[5] !== undefined ? Number(escape[5]) : parseInt(escape[1] ?? escape[2] ?? escape[3] ?? escape[4]!, 16);
      c = code < 0x80 ? String.fromCharCode(code) : "";
      width = escape[0].length;
    }
    if (ALNUM.test(c)) {
      letters += c;
      from.push(i);
      to.push(i + width);
    }
    i += width;
  }
  return { letters, from, to };
}

/**
 * {@link redact}, and then every piece of one of `secrets` (the tokens a request carried, a
 * login's secret ID) removed, however the text splits, escapes or re-joins it: every run of 12 or
 * more characters that also stands in a secret, and every stretch whose letters and digits, with
 * escapes (`%65`, `\u0065`, `&#101;`) decoded and anything else between them ignored, spell 12
 * consecutive letters and digits of a secret. A server that echoes a secret we sent cannot slip
 * a piece of it through the shape rules. Secrets too short for that (at least 4 characters) are
 * removed where they stand whole. Letter case is ignored: a URL's host name, or a proxy, may
 * lower-case an echoed secret. Never throws.
 */
export function redactKnown(text: string, secrets: Iterable<string>): string {
  const clean = redact(text);
  // ASCII only, so every character keeps its place (toLowerCase may lengthen other letters).
  const lowerCase = (value: string): string => value.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const windows = new Set<string>();
  const letterWindows = new Set<string>();
  const whole: string[] = [];
  for (const given of secrets) {
    if (typeof given !== "string") continue;
    const secret = lowerCase(given);
    const letters = secret.replace(/[^a-z0-9]+/g, "");
    if (secret.length >= JUDGED_RUN) for (let i = 0; i + JUDGED_RUN <= secret.length; i++) windows.add(secret.slice(i, i + JUDGED_RUN));
    for (let i = 0; i + JUDGED_RUN <= letters.length; i++) letterWindows.add(letters.slice(i, i + JUDGED_RUN));
    if (letters.length < JUDGED_RUN && secret.length >= 4) whole.push(secret);
  }
  const lower = lowerCase(clean);
  const covered = new Uint8Array(clean.length);
  if (windows.size > 0) {
    for (let i = 0; i + JUDGED_RUN <= lower.length; i++) {
      if (windows.has(lower.slice(i, i + JUDGED_RUN))) covered.fill(1, i, i + JUDGED_RUN);
    }
  }
  if (letterWindows.size > 0) {
    const { letters, from, to } = letterStream(clean);
    const lowerLetters = lowerCase(letters);
    for (let i = 0; i + JUDGED_RUN <= lowerLetters.length; i++) {
      if (letterWindows.has(lowerLetters.slice(i, i + JUDGED_RUN))) covered.fill(1, from[i], to[i + JUDGED_RUN - 1]);
    }
  }
  for (const secret of whole) {
    for (let at = lower.indexOf(secret); at !== -1; at = lower.indexOf(secret, at + 1)) covered.fill(1, at, at + secret.length);
  }
  if (!covered.includes(1)) return clean;
  let out = "";
  for (let i = 0; i < clean.length; i++) {
    if (covered[i] === 1) {
      if (i === 0 || covered[i - 1] !== 1) out += "[secret removed]";
    } else out += clean[i];
  }
  return out;
}

// Control characters (C0, DEL, C1) and bidirectional controls: a terminal or a log viewer acts on
// them (clears the screen, sets a title, shows text reversed) instead of showing them.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control character and bidirectional control replaced by `?`. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, "?");
}

/**
 * A user's value for a message: quoted when it survives {@link redact} untouched and is short,
 * else what is left after redaction (or its length), so a message never carries key material.
 */
export function quote(value: string, maxLength = 80): string {
  const clean = printable(redact(value).trim());
  if (clean.length <= maxLength) return `'${clean}'`;
  return `(a value of ${value.length} characters)`;
}

/**
 * True when `value` can be printed verbatim: short, printable, and unchanged by {@link redact}.
 * The Pulumi engine prints a CheckFailure's named property's raw value, so only such values may
 * name their property.
 */
export function isSafeToPrint(value: string, maxLength = 64): boolean {
  return value.length <= maxLength && /^[\x20-\x7e]*$/.test(value) && redact(value) === value;
}
