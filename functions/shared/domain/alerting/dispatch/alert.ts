import { type Issue, ValidationError } from '../../../errors';
import type { Labels } from './labels';

/**
 * One alert event as rule evaluation publishes it ("Alert Firing" / "Alert Resolved"). Delivery is
 * at least once and unordered: the same event may arrive twice, and a resolution may overtake the
 * firing it ends. `fingerprint` is Alertmanager's FNV-1a of the labels (16 hex digits), computed by
 * the evaluator and trusted here.
 */
export interface AlertEvent {
  readonly status: 'firing' | 'resolved';
  readonly fingerprint: string;
  readonly labels: Labels;
  readonly annotations?: Labels;
  /** RFC 3339. When the alert (this episode) started firing. */
  readonly startsAt: string;
  /** RFC 3339. When it resolved; ignored on firing events (see {@link alertEventTime}). */
  readonly endsAt?: string;
  readonly generatorURL?: string;
  /** The value that crossed the threshold, kept for the incident timeline. */
  readonly value?: number;
}

/** An event after validation: times in epoch milliseconds. */
export interface ParsedAlertEvent {
  readonly status: 'firing' | 'resolved';
  readonly fingerprint: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly startsAt: number;
  readonly endsAt?: number;
  readonly generatorURL: string;
  readonly value?: number;
}

export const MAX_LABELS = 64;
export const MAX_LABEL_VALUE_LENGTH = 1_024;
export const MAX_ANNOTATION_VALUE_LENGTH = 8_192;

/** Validates an event from the bus; throws a {@link ValidationError} listing every problem. */
export function parseAlertEvent(input: unknown): ParsedAlertEvent {
  const issues: Issue[] = [];
  const event = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  if (event.status !== 'firing' && event.status !== 'resolved') {
    issues.push({ path: 'status', message: 'expected "firing" or "resolved"' });
  }
  if (typeof event.fingerprint !== 'string' || !/^[0-9a-f]{1,64}$/.test(event.fingerprint)) {
    issues.push({ path: 'fingerprint', message: 'expected lower-case hex digits' });
  }
  const labels = stringMap(event.labels, 'labels', MAX_LABEL_VALUE_LENGTH, issues);
  if (Object.keys(labels).length === 0)
    issues.push({ path: 'labels', message: 'an alert has at least one label' });
  const annotations = stringMap(event.annotations ?? {}, 'annotations', MAX_ANNOTATION_VALUE_LENGTH, issues);
  const startsAt = parseTime(event.startsAt, 'startsAt', issues);
  const endsAt = event.endsAt === undefined ? undefined : parseTime(event.endsAt, 'endsAt', issues);
  if (event.generatorURL !== undefined && typeof event.generatorURL !== 'string') {
    issues.push({ path: 'generatorURL', message: 'expected a string' });
  }
  if (event.value !== undefined && (typeof event.value !== 'number' || !Number.isFinite(event.value))) {
    issues.push({ path: 'value', message: 'expected a finite number' });
  }
  if (issues.length > 0) {
    throw ValidationError.listing('Invalid alert event', issues);
  }
  return {
    status: event.status as 'firing' | 'resolved',
    fingerprint: event.fingerprint as string,
    labels,
    annotations,
    startsAt: startsAt as number,
    ...(endsAt !== undefined ? { endsAt } : {}),
    generatorURL: (event.generatorURL as string | undefined) ?? '',
    ...(event.value !== undefined ? { value: event.value as number } : {}),
  };
}

/**
 * The instant an event speaks for, which orders events of one fingerprint: a firing event speaks
 * for its `startsAt`, a resolved one for its `endsAt` (or its `startsAt` when it has none). A later
 * instant wins; at the same instant a resolution wins over a firing.
 */
export function alertEventTime(event: Pick<ParsedAlertEvent, 'status' | 'startsAt' | 'endsAt'>): number {
  return event.status === 'resolved' ? (event.endsAt ?? event.startsAt) : event.startsAt;
}

function stringMap(value: unknown, path: string, maxValue: number, issues: Issue[]): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.push({ path, message: 'expected an object of strings' });
    return {};
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_LABELS) issues.push({ path, message: `at most ${MAX_LABELS} entries` });
  const out: Record<string, string> = {};
  for (const [key, v] of entries) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(key))
      issues.push({ path: `${path}.${key}`, message: 'invalid name' });
    else if (typeof v !== 'string' || v.length > maxValue) {
      issues.push({ path: `${path}.${key}`, message: `expected a string of at most ${maxValue} characters` });
    } else out[key] = v;
  }
  return out;
}

function parseTime(value: unknown, path: string, issues: Issue[]): number | undefined {
  const ms = typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) {
    issues.push({ path, message: 'expected an RFC 3339 time' });
    return undefined;
  }
  return ms;
}

/** Alertmanager's zero time, which its webhook shows for a firing alert's `endsAt`. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** Go's RFC 3339 with nanoseconds as `time.Time` marshals to JSON in UTC: no fractional part when zero, trailing zeros trimmed. */
export function formatGoTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.replace(/\.(\d{3})Z$/, (_, frac: string) => {
    const trimmed = frac.replace(/0+$/, '');
    return trimmed === '' ? 'Z' : `.${trimmed}Z`;
  });
}
