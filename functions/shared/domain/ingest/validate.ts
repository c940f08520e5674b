import type { Datapoint } from '../metrics';
import { describe, isRecord, preview } from './inspect';
import {
  LABEL_KEY_PATTERN,
  MAX_LABEL_KEY_LENGTH,
  MAX_LABEL_VALUE_BYTES,
  MAX_LABELS,
  MAX_METRIC_NAME_LENGTH,
  MAX_TIMESTAMP_AGE_MS,
  MAX_TIMESTAMP_FUTURE_MS,
  METRIC_NAME_PATTERN,
  RESERVED_LABEL_PREFIX,
} from './limits';

/** Every rejection code, stable: clients may switch on them. */
export const REJECTION_CODES = [
  'MALFORMED_ITEM',
  'INVALID_NAME',
  'INVALID_VALUE',
  'NON_FINITE_VALUE',
  'INVALID_TIMESTAMP',
  'TIMESTAMP_OUT_OF_RANGE',
  'TOO_MANY_LABELS',
  'INVALID_LABEL_KEY',
  'INVALID_LABEL_VALUE',
] as const;

/** Why one datapoint was rejected. */
export type RejectionCode = (typeof REJECTION_CODES)[number];

/** One datapoint as a format parser read it: nothing is trusted yet. */
export interface RawDatapoint {
  readonly name: unknown;
  readonly value: unknown;
  /** Epoch milliseconds or an ISO 8601 string with an offset; absent (or `null`) means `now`. */
  readonly timestamp?: unknown;
  /** An object of string values; absent (or `null`) means no labels. */
  readonly labels?: unknown;
  /**
   * Set by a parser when it already knows the item is bad (a broken Prometheus line, an OTLP data
   * point it could not read): validation rejects the item with exactly this code and message.
   */
  readonly problem?: { readonly code: RejectionCode; readonly message: string };
  /** Where the item came from ("line 7", `metric "x" dataPoints[2]`), prefixed to its rejection message. */
  readonly source?: string;
}

/** A valid datapoint and its position in the input. */
export type AcceptedDatapoint = Datapoint & { readonly index: number };

/** Why the item at `index` in the input was not accepted. */
export interface Rejection {
  readonly index: number;
  readonly code: RejectionCode;
  readonly message: string;
}

/** The outcome of a batch: every input item is in exactly one of the two lists. */
export interface ValidationOutcome {
  readonly accepted: AcceptedDatapoint[];
  readonly rejected: Rejection[];
}

class Problem {
  constructor(
    readonly code: RejectionCode,
    readonly message: string,
  ) {}
}

/**
 * Checks each item on its own against the documented limits (`limits.ts`): valid items are
 * accepted, the others rejected with a stable code and a message that names the offending part
 * without echoing more than ~100 characters of it. A missing timestamp becomes `now`; timestamps
 * must lie within [now − 7 days, now + 10 minutes]. Never throws: an item that cannot even be
 * read is rejected as `MALFORMED_ITEM`. When an item has several problems, the first in the order
 * malformed, name, value, timestamp, labels is reported.
 */
export function validateDatapoints(items: readonly RawDatapoint[], now: number): ValidationOutcome {
  const accepted: AcceptedDatapoint[] = [];
  const rejected: Rejection[] = [];
  for (let index = 0; index < items.length; index++) {
    let source: string | undefined;
    let outcome: Datapoint | Problem;
    try {
      const item: unknown = items[index];
      source = isRecord(item) && typeof item.source === 'string' ? item.source : undefined;
      outcome = checkItem(item, now);
    } catch {
      outcome = new Problem('MALFORMED_ITEM', 'item could not be read');
    }
    if (outcome instanceof Problem) {
      const prefix = source === undefined ? '' : `${source}: `;
      rejected.push({ index, code: outcome.code, message: prefix + outcome.message });
    } else {
      accepted.push({ ...outcome, index });
    }
  }
  return { accepted, rejected };
}

function checkItem(item: unknown, now: number): Datapoint | Problem {
  if (!isRecord(item)) return new Problem('MALFORMED_ITEM', `item must be an object; got ${describe(item)}`);
  if (isRecord(item.problem)) {
    const { code, message } = item.problem;
    const known = REJECTION_CODES.find((candidate) => candidate === code) ?? 'MALFORMED_ITEM';
    return new Problem(known, typeof message === 'string' ? message : 'item could not be read');
  }
  const name = checkName(item.name);
  if (name instanceof Problem) return name;
  const value = checkValue(item.value);
  if (value instanceof Problem) return value;
  const timestamp = checkTimestamp(item.timestamp, now);
  if (timestamp instanceof Problem) return timestamp;
  const labels = checkLabels(item.labels);
  if (labels instanceof Problem) return labels;
  return { name, value, timestamp, labels };
}

function checkName(name: unknown): string | Problem {
  if (typeof name !== 'string') {
    return new Problem('INVALID_NAME', `metric name must be a string; got ${describe(name)}`);
  }
  if (name.length === 0) return new Problem('INVALID_NAME', 'metric name is empty');
  if (name.length > MAX_METRIC_NAME_LENGTH) {
    return new Problem(
      'INVALID_NAME',
      `metric name ${preview(name)} is ${name.length} characters; at most ${MAX_METRIC_NAME_LENGTH}`,
    );
  }
  if (!METRIC_NAME_PATTERN.test(name)) {
    return new Problem(
      'INVALID_NAME',
      `metric name ${preview(name)} must match ${METRIC_NAME_PATTERN.source}`,
    );
  }
  return name;
}

function checkValue(value: unknown): number | Problem {
  if (typeof value !== 'number') {
    return new Problem('INVALID_VALUE', `value must be a number; got ${describe(value)}`);
  }
  if (!Number.isFinite(value)) {
    return new Problem('NON_FINITE_VALUE', `value must be finite; got ${String(value)}`);
  }
  return value;
}

// RFC 3339 / ISO 8601 extended format with a mandatory offset; seconds and fractions optional.
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/i;
const ISO_TIMESTAMP_MAX_LENGTH = 40;

function checkTimestamp(timestamp: unknown, now: number): number | Problem {
  const epochMs = readTimestamp(timestamp, now);
  if (epochMs instanceof Problem) return epochMs;
  const oldest = now - MAX_TIMESTAMP_AGE_MS;
  const newest = now + MAX_TIMESTAMP_FUTURE_MS;
  if (epochMs < oldest) {
    return new Problem(
      'TIMESTAMP_OUT_OF_RANGE',
      `timestamp ${formatTime(epochMs)} is more than 7 days old; the oldest accepted now is ${formatTime(oldest)}`,
    );
  }
  if (epochMs > newest) {
    return new Problem(
      'TIMESTAMP_OUT_OF_RANGE',
      `timestamp ${formatTime(epochMs)} is more than 10 minutes in the future; the newest accepted now is ${formatTime(newest)}`,
    );
  }
  return epochMs;
}

function readTimestamp(timestamp: unknown, now: number): number | Problem {
  if (timestamp === undefined || timestamp === null) return now;
  if (typeof timestamp === 'number') {
    if (Number.isInteger(timestamp) && timestamp >= 0) return timestamp;
    return new Problem(
      'INVALID_TIMESTAMP',
      `timestamp must be a non-negative integer of epoch milliseconds; got ${String(timestamp)}`,
    );
  }
  if (typeof timestamp === 'string') {
    const parsed = timestamp.length <= ISO_TIMESTAMP_MAX_LENGTH ? parseIsoTimestamp(timestamp) : undefined;
    if (parsed !== undefined) return parsed;
    return new Problem(
      'INVALID_TIMESTAMP',
      `timestamp ${preview(timestamp)} is not an ISO 8601 date-time with an offset (like 2026-11-24T06:00:00Z)`,
    );
  }
  return new Problem(
    'INVALID_TIMESTAMP',
    `timestamp must be epoch milliseconds or an ISO 8601 string; got ${describe(timestamp)}`,
  );
}

function parseIsoTimestamp(text: string): number | undefined {
  const match = ISO_TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [, year, month, day] = match.map(Number);
  // Date.parse rolls 2026-02-30 over into March; a real calendar day is required.
  if (year === undefined || month === undefined || day === undefined) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) {
    return undefined;
  }
  const epochMs = Date.parse(text.toUpperCase());
  return Number.isNaN(epochMs) ? undefined : epochMs;
}

const MAX_DATE_MS = 8.64e15;

function formatTime(epochMs: number): string {
  return Math.abs(epochMs) <= MAX_DATE_MS ? new Date(epochMs).toISOString() : `${epochMs} ms`;
}

function checkLabels(labels: unknown): Record<string, string> | Problem {
  if (labels === undefined || labels === null) return {};
  if (!isRecord(labels)) {
    return new Problem(
      'MALFORMED_ITEM',
      `labels must be an object of string values; got ${describe(labels)}`,
    );
  }
  const keys = Object.keys(labels);
  if (keys.length > MAX_LABELS) {
    return new Problem('TOO_MANY_LABELS', `${keys.length} labels; at most ${MAX_LABELS}`);
  }
  const entries: [string, string][] = [];
  for (const key of keys) {
    const keyProblem = checkLabelKey(key);
    if (keyProblem) return keyProblem;
    const value = labels[key];
    const valueProblem = checkLabelValue(key, value);
    if (valueProblem) return valueProblem;
    entries.push([key, value as string]);
  }
  // fromEntries defines own data properties, so no key can reach a prototype.
  return Object.fromEntries(entries);
}

function checkLabelKey(key: string): Problem | undefined {
  if (key.length > MAX_LABEL_KEY_LENGTH) {
    return new Problem(
      'INVALID_LABEL_KEY',
      `label key ${preview(key)} is ${key.length} characters; at most ${MAX_LABEL_KEY_LENGTH}`,
    );
  }
  if (!LABEL_KEY_PATTERN.test(key)) {
    return new Problem(
      'INVALID_LABEL_KEY',
      `label key ${preview(key)} must match ${LABEL_KEY_PATTERN.source}`,
    );
  }
  if (key.startsWith(RESERVED_LABEL_PREFIX)) {
    return new Problem(
      'INVALID_LABEL_KEY',
      `label key ${preview(key)} starts with "${RESERVED_LABEL_PREFIX}", which is reserved`,
    );
  }
  return undefined;
}

function checkLabelValue(key: string, value: unknown): Problem | undefined {
  if (typeof value !== 'string') {
    return new Problem(
      'INVALID_LABEL_VALUE',
      `label ${preview(key)} must have a string value; got ${describe(value)}`,
    );
  }
  if (value.length === 0) {
    return new Problem(
      'INVALID_LABEL_VALUE',
      `label ${preview(key)} has an empty value; omit the label instead`,
    );
  }
  const bytes = utf8Length(value);
  if (bytes === undefined) {
    return new Problem(
      'INVALID_LABEL_VALUE',
      `label ${preview(key)} value is not valid Unicode (a lone surrogate)`,
    );
  }
  if (bytes > MAX_LABEL_VALUE_BYTES) {
    return new Problem(
      'INVALID_LABEL_VALUE',
      `label ${preview(key)} value is ${bytes} UTF-8 bytes; at most ${MAX_LABEL_VALUE_BYTES}`,
    );
  }
  return undefined;
}

/** The UTF-8 length of a string, or `undefined` when it holds a lone surrogate (not encodable). */
function utf8Length(text: string): number | undefined {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return undefined;
      bytes += 4;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) return undefined;
    else bytes += 3;
  }
  return bytes;
}
