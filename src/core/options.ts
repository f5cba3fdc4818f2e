/**
 * Checking numeric options against their range, the same way everywhere: an option outside its
 * range is `OPTION_INVALID`, naming the option and the range.
 * @packageDocumentation
 */
import { AscCredentialError } from "./errors";

/** The longest a single network or store request may take before it is abandoned, in ms. */
export const MAX_TIMEOUT_MS = 120_000;

/** Describes a value in words: numbers as themselves, anything else by its type. */
export function describeSeen(value: unknown): string {
  if (typeof value === "number") return `the number ${String(value)}`;
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a value of type ${typeof value}`;
}

/** An `OPTION_INVALID` error for `option`, what was seen, its range and its default. */
export function optionError(option: string, seen: string, range: string, defaultValue?: string | number): AscCredentialError {
  const fallback = defaultValue !== undefined ? `, or leave it out for ${defaultValue}` : "";
  return new AscCredentialError("OPTION_INVALID", `${option} is ${seen}; use ${range}${fallback}.`, option);
}

/** The range of a numeric option. */
export interface NumberRange {
  min: number;
  max: number;
  /** Whole numbers only. */
  integer?: boolean;
  /** Shown in the range, e.g. "milliseconds". */
  unit: string;
  defaultValue?: number;
}

/**
 * Returns `value` when it is a number within `range` (or `undefined` when absent).
 * @throws AscCredentialError `OPTION_INVALID` naming `option` and the range.
 */
export function checkNumber(option: string, value: unknown, range: NumberRange): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number" && Number.isFinite(value) && value >= range.min && value <= range.max && (!range.integer || Number.isInteger(value))) return value;
  throw optionError(option, describeSeen(value), `${range.integer ? "a whole number of" : "a number of"} ${range.unit} from ${range.min} to ${range.max}`, range.defaultValue);
}

/** `timeoutMs` everywhere it is accepted: 1 to {@link MAX_TIMEOUT_MS} milliseconds. */
export function checkTimeoutMs(value: unknown, defaultValue: number, option = "timeoutMs"): number {
  return checkNumber(option, value, { min: 1, max: MAX_TIMEOUT_MS, unit: "milliseconds", defaultValue }) ?? defaultValue;
}
