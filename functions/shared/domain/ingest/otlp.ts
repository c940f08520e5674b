// OTLP/HTTP JSON: the proto3 JSON mapping of ExportMetricsServiceRequest (opentelemetry-proto
// metrics/v1), as an OpenTelemetry Collector's `otlphttp` exporter sends it with `encoding: json`.
// Field names are lowerCamelCase; 64-bit integers (timeUnixNano, asInt, count, bucketCounts) arrive
// as decimal strings but numbers are accepted too; doubles may be the strings "NaN", "Infinity" and
// "-Infinity"; a field at its proto3 default (0, "", false, []) may be omitted entirely.
import { ValidationError } from '../../errors';
import { describe, isRecord, own, preview } from './inspect';
import { MAX_DATAPOINTS_PER_REQUEST } from './limits';
import type { RawDatapoint, RejectionCode } from './validate';

/** How resource attributes become labels. */
export interface OtlpOptions {
  /**
   * `'all'` (the default) turns every resource attribute into a label; a list keeps only the named
   * attributes (by their OpenTelemetry key, such as `service.name`). SDK default resources carry a
   * dozen attributes (`telemetry.sdk.*`, `process.*`, `host.*`), which quickly exceeds 16 labels.
   */
  readonly resourceAttributes?: 'all' | readonly string[];
}

/** The quantiles a histogram is summarised by, and the suffix of each. */
const HISTOGRAM_QUANTILES = [
  [0.5, '_p50'],
  [0.95, '_p95'],
  [0.99, '_p99'],
] as const;

const FLAG_NO_RECORDED_VALUE = 1;
const MAX_ATTRIBUTE_DEPTH = 8;
const UINT64 = /^\d{1,20}$/;
const INT64 = /^-?\d{1,19}$/;

/** A problem with one OTLP element, reported as one rejected item rather than thrown to the client. */
class ElementError extends Error {
  constructor(
    message: string,
    readonly code: RejectionCode = 'MALFORMED_ITEM',
  ) {
    super(message);
  }
}

type Labels = ReadonlyMap<string, string>;

/**
 * Reads an OTLP/HTTP JSON `ExportMetricsServiceRequest` into raw datapoints, one or more per OTLP
 * data point:
 *
 * - Names and label keys are sanitised Prometheus-style: every character other than `[a-zA-Z0-9_]`
 *   (`:` too, for names) becomes `_`, and a leading digit gets a `_` prefix
 *   (`http.server.duration` → `http_server_duration`, `2xx` → `_2xx`). No unit or `_total` suffix
 *   is added; a sum keeps its name whatever its temporality or monotonicity.
 * - Labels are the resource attributes (see {@link OtlpOptions}) plus the data point attributes;
 *   the data point wins a clash. Attributes whose keys sanitise to the same label on one level are
 *   joined with `;` in the order of their original keys. Values: strings as they are, booleans and
 *   numbers as text, arrays and key-value lists as JSON; an attribute with no value or an empty
 *   string is dropped (in Prometheus an empty label is no label). Scope attributes are ignored.
 * - `gauge` and `sum`: one datapoint each (`asDouble` or `asInt`; neither means 0, proto3's default).
 * - `histogram`: `<name>_count`, `<name>_sum` and `_min`/`_max` when present, and `_p50`, `_p95`,
 *   `_p99` estimated from the buckets (see {@link bucketQuantile}). A cumulative histogram's
 *   quantiles describe everything since its start time, not the last interval.
 * - `exponentialHistogram`: the same series, quantiles from its base-2 exponential buckets.
 * - `summary`: `<name>_count`, `<name>_sum`, and `<name>{quantile="q"}` per quantile value.
 * - A data point flagged "no recorded value" yields nothing. `timeUnixNano` (0 or absent means
 *   now) becomes whole milliseconds.
 *
 * Throws a `ValidationError` when the body is not an object, `resourceMetrics` is not an array, or
 * the request yields more than {@link MAX_DATAPOINTS_PER_REQUEST} datapoints. Any element below
 * that which cannot be read becomes one item with a `problem`, rejected by validation.
 */
export function parseOtlpJson(body: unknown, options: OtlpOptions = {}): RawDatapoint[] {
  if (!isRecord(body)) {
    throw new ValidationError(
      `An OTLP body must be a JSON object ExportMetricsServiceRequest {"resourceMetrics": [...]}; got ${describe(body)}`,
    );
  }
  const resourceMetrics = own(body, 'resourceMetrics') ?? [];
  if (!Array.isArray(resourceMetrics)) {
    throw new ValidationError('Invalid OTLP ExportMetricsServiceRequest', [
      { path: 'resourceMetrics', message: `must be an array; got ${describe(resourceMetrics)}` },
    ]);
  }
  const allowed = options.resourceAttributes;
  const out = new Output();
  resourceMetrics.forEach((resourceMetric: unknown, r) => {
    const path = `resourceMetrics[${r}]`;
    out.guard(path, () => {
      if (!isRecord(resourceMetric)) {
        throw new ElementError(`must be an object; got ${describe(resourceMetric)}`);
      }
      const resourceLabels = readAttributes(
        own(own(resourceMetric, 'resource'), 'attributes'),
        allowed === undefined || allowed === 'all' ? undefined : new Set(allowed),
      );
      forEachElement(
        out,
        path,
        own(resourceMetric, 'scopeMetrics'),
        'scopeMetrics',
        (scopeMetric, scopePath) => {
          forEachElement(out, scopePath, own(scopeMetric, 'metrics'), 'metrics', (metric) => {
            readMetric(out, metric, resourceLabels);
          });
        },
      );
    });
  });
  return out.items;
}

/** The OTLP JSON response body: `{}` when all was accepted, else a `partialSuccess` (int64 as a string). */
export function otlpResponse(rejectedCount: number, message?: string): Record<string, unknown> {
  if (rejectedCount <= 0) return {};
  return {
    partialSuccess: {
      rejectedDataPoints: String(Math.trunc(rejectedCount)),
      ...(message === undefined || message === '' ? {} : { errorMessage: message }),
    },
  };
}

/** A metric name made Prometheus-safe: `http.server.duration` → `http_server_duration`. */
export function sanitizeMetricName(name: string): string {
  return prefixDigit(name.replace(/[^a-zA-Z0-9_:]/gu, '_'));
}

/** An attribute key made a valid label key: `service.name` → `service_name`, `2xx` → `_2xx`. */
export function sanitizeLabelKey(key: string): string {
  return prefixDigit(key.replace(/[^a-zA-Z0-9_]/gu, '_'));
}

function prefixDigit(text: string): string {
  return /^[0-9]/.test(text) ? `_${text}` : text;
}

/** Collects the items and enforces the per-request limit as they are produced. */
class Output {
  readonly items: RawDatapoint[] = [];

  push(item: RawDatapoint): void {
    this.items.push(item);
    if (this.items.length > MAX_DATAPOINTS_PER_REQUEST) {
      throw new ValidationError(
        `Too many datapoints in one request: at most ${MAX_DATAPOINTS_PER_REQUEST} after expanding histograms and summaries`,
      );
    }
  }

  reject(source: string, message: string, code: RejectionCode = 'MALFORMED_ITEM'): void {
    this.push({ name: undefined, value: undefined, source, problem: { code, message } });
  }

  /** Runs `read`, turning an element problem into one rejected item at `source`. */
  guard(source: string, read: () => void): void {
    try {
      read();
    } catch (error) {
      if (!(error instanceof ElementError)) throw error;
      this.reject(source, error.message, error.code);
    }
  }
}

function forEachElement(
  out: Output,
  parentPath: string,
  list: unknown,
  field: string,
  visit: (element: Record<string, unknown>, path: string) => void,
): void {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) throw new ElementError(`${field} must be an array; got ${describe(list)}`);
  list.forEach((element: unknown, i) => {
    const path = `${parentPath}.${field}[${i}]`;
    out.guard(path, () => {
      if (!isRecord(element)) throw new ElementError(`must be an object; got ${describe(element)}`);
      visit(element, path);
    });
  });
}

const METRIC_KINDS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;
type MetricKind = (typeof METRIC_KINDS)[number];

function readMetric(out: Output, metric: Record<string, unknown>, resourceLabels: Labels): void {
  const rawName = own(metric, 'name');
  if (typeof rawName !== 'string')
    throw new ElementError(`metric name must be a string; got ${describe(rawName)}`);
  const name = sanitizeMetricName(rawName);
  const kind = METRIC_KINDS.find((candidate) => isRecord(own(metric, candidate)));
  if (kind === undefined) {
    throw new ElementError(`metric ${preview(rawName)} has no ${METRIC_KINDS.join(', ')} data`);
  }
  const dataPoints = own(own(metric, kind), 'dataPoints');
  if (dataPoints === undefined || dataPoints === null) return;
  if (!Array.isArray(dataPoints)) {
    throw new ElementError(
      `metric ${preview(rawName)} dataPoints must be an array; got ${describe(dataPoints)}`,
    );
  }
  dataPoints.forEach((point: unknown, d) => {
    const source = `metric ${preview(rawName, 60)} dataPoints[${d}]`;
    out.guard(source, () => {
      if (!isRecord(point)) throw new ElementError(`must be an object; got ${describe(point)}`);
      const flags = own(point, 'flags');
      if (typeof flags === 'number' && (flags & FLAG_NO_RECORDED_VALUE) !== 0) return;
      const labels = new Map([...resourceLabels, ...readAttributes(own(point, 'attributes'))]);
      const timestamp = nanosToMillis(own(point, 'timeUnixNano'));
      const emit = (series: string, value: unknown, extra?: [string, string]) => {
        const all = extra === undefined ? labels : new Map([...labels, extra]);
        out.push({ name: series, value, timestamp, labels: Object.fromEntries(all), source });
      };
      readPoint(kind, name, point, emit);
    });
  });
}

type Emit = (series: string, value: unknown, extra?: [string, string]) => void;

function readPoint(kind: MetricKind, name: string, point: Record<string, unknown>, emit: Emit): void {
  switch (kind) {
    case 'gauge':
    case 'sum':
      emit(name, numberValue(point));
      return;
    case 'histogram':
    case 'exponentialHistogram': {
      const count = readCount(own(point, 'count'), 'count');
      const sum = readOptionalDouble(own(point, 'sum'), 'sum');
      const min = readOptionalDouble(own(point, 'min'), 'min');
      const max = readOptionalDouble(own(point, 'max'), 'max');
      emit(`${name}_count`, count);
      if (sum !== undefined) emit(`${name}_sum`, sum);
      if (min !== undefined) emit(`${name}_min`, min);
      if (max !== undefined) emit(`${name}_max`, max);
      const buckets =
        kind === 'histogram' ? explicitBuckets(point, min, max) : exponentialBuckets(point, min, max);
      if (buckets === undefined) return;
      for (const [quantile, suffix] of HISTOGRAM_QUANTILES) {
        const estimate = bucketQuantile(quantile, buckets);
        if (estimate !== undefined && Number.isFinite(estimate)) emit(`${name}${suffix}`, estimate);
      }
      return;
    }
    case 'summary': {
      const count = readCount(own(point, 'count'), 'count');
      const sum = readOptionalDouble(own(point, 'sum'), 'sum') ?? 0;
      const quantiles = own(point, 'quantileValues') ?? [];
      if (!Array.isArray(quantiles))
        throw new ElementError(`quantileValues must be an array; got ${describe(quantiles)}`);
      const values = quantiles.map((entry: unknown): [number, number] => {
        if (!isRecord(entry))
          throw new ElementError(`quantileValues entry must be an object; got ${describe(entry)}`);
        const quantile = readOptionalDouble(own(entry, 'quantile'), 'quantile') ?? 0;
        return [quantile, readOptionalDouble(own(entry, 'value'), 'value') ?? 0];
      });
      emit(`${name}_count`, count);
      emit(`${name}_sum`, sum);
      for (const [quantile, value] of values) emit(name, value, ['quantile', String(quantile)]);
      return;
    }
  }
}

/** A number data point's value: `asDouble`, else `asInt` (an int64, usually a decimal string), else 0. */
function numberValue(point: Record<string, unknown>): unknown {
  if (Object.hasOwn(point, 'asDouble')) {
    const value = point.asDouble;
    return typeof value === 'string' ? (parseSpecialDouble(value) ?? value) : value;
  }
  if (Object.hasOwn(point, 'asInt')) {
    const value = point.asInt;
    return typeof value === 'string' && INT64.test(value) ? Number(value) : value;
  }
  return 0;
}

function parseSpecialDouble(text: string): number | undefined {
  if (text === 'NaN') return Number.NaN;
  if (text === 'Infinity') return Number.POSITIVE_INFINITY;
  if (text === '-Infinity') return Number.NEGATIVE_INFINITY;
  return undefined;
}

function readOptionalDouble(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  const special = typeof value === 'string' ? parseSpecialDouble(value) : undefined;
  if (special !== undefined) return special;
  throw new ElementError(`${field} must be a number; got ${describe(value)}`, 'INVALID_VALUE');
}

/** A fixed64/uint64 (count, bucket count): a decimal string or a non-negative integer; absent means 0. */
function readCount(value: unknown, field: string): number {
  const count = readUint64(value);
  if (count === undefined) {
    throw new ElementError(
      `${field} must be a non-negative integer; got ${describe(value)}`,
      'INVALID_VALUE',
    );
  }
  return count;
}

function readUint64(value: unknown): number | undefined {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'string' && UINT64.test(value)) return Number(value);
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  return undefined;
}

/**
 * `timeUnixNano` in whole epoch milliseconds (a decimal string is cut exactly, with BigInt); 0 or
 * absent is undefined, which validation stamps with now; anything else is an element error.
 */
function nanosToMillis(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && UINT64.test(value)) {
    const millis = Number(BigInt(value) / 1_000_000n);
    return millis === 0 ? undefined : millis;
  }
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
    // A JSON number above 2^53 is already off by up to 128 ns: round, so an exact millisecond
    // whose nearest double lies just below it does not fall to the previous millisecond.
    const millis = Math.round(value / 1e6);
    return millis === 0 ? undefined : millis;
  }
  throw new ElementError(
    `timeUnixNano must be a decimal string of nanoseconds since the epoch; got ${describe(value)}`,
    'INVALID_TIMESTAMP',
  );
}

/**
 * Attributes (`[{key, value: AnyValue}]`) as sanitised labels. Keys that sanitise alike are joined
 * with `;` in the order of their original keys; empty values are dropped.
 */
function readAttributes(attributes: unknown, allowed?: ReadonlySet<string>): Map<string, string> {
  const labels = new Map<string, string>();
  if (attributes === undefined || attributes === null) return labels;
  if (!Array.isArray(attributes))
    throw new ElementError(`attributes must be an array; got ${describe(attributes)}`);
  const byLabel = new Map<string, [string, string][]>();
  for (const attribute of attributes) {
    const key = own(attribute, 'key');
    if (typeof key !== 'string')
      throw new ElementError(`attribute key must be a string; got ${describe(key)}`);
    if (allowed !== undefined && !allowed.has(key)) continue;
    const value = anyValueText(own(attribute, 'value'), key);
    if (value === undefined || value === '') continue;
    const label = sanitizeLabelKey(key);
    const group = byLabel.get(label) ?? [];
    group.push([key, value]);
    byLabel.set(label, group);
  }
  for (const [label, group] of byLabel) {
    group.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    labels.set(label, group.map(([, value]) => value).join(';'));
  }
  return labels;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** An AnyValue as label text: scalars as text, arrays and key-value lists as JSON, unset as undefined. */
function anyValueText(value: unknown, key: string): string | undefined {
  const plain = anyValuePlain(value, key, 0);
  if (plain === undefined || plain === null) return undefined;
  return typeof plain === 'string' ? plain : JSON.stringify(plain);
}

function anyValuePlain(value: unknown, key: string, depth: number): Json | undefined {
  if (depth > MAX_ATTRIBUTE_DEPTH) {
    throw new ElementError(`attribute ${preview(key)} is nested deeper than ${MAX_ATTRIBUTE_DEPTH} levels`);
  }
  if (!isRecord(value)) return undefined;
  const bad = (kind: string, got: unknown) =>
    new ElementError(
      `attribute ${preview(key)} ${kind} is not valid: ${describe(got)}`,
      'INVALID_LABEL_VALUE',
    );
  if (Object.hasOwn(value, 'stringValue')) {
    if (typeof value.stringValue !== 'string') throw bad('stringValue', value.stringValue);
    return value.stringValue;
  }
  if (Object.hasOwn(value, 'boolValue')) {
    if (typeof value.boolValue !== 'boolean') throw bad('boolValue', value.boolValue);
    return depth === 0 ? String(value.boolValue) : value.boolValue;
  }
  if (Object.hasOwn(value, 'intValue')) {
    const int = value.intValue;
    if (typeof int === 'string' && INT64.test(int)) return depth === 0 ? BigInt(int).toString() : Number(int);
    if (typeof int === 'number' && Number.isInteger(int)) return depth === 0 ? String(int) : int;
    throw bad('intValue', int);
  }
  if (Object.hasOwn(value, 'doubleValue')) {
    const double = value.doubleValue;
    if (typeof double === 'number') return depth === 0 ? String(double) : double;
    if (typeof double === 'string' && parseSpecialDouble(double) !== undefined) return double;
    throw bad('doubleValue', double);
  }
  if (Object.hasOwn(value, 'bytesValue')) {
    if (typeof value.bytesValue !== 'string') throw bad('bytesValue', value.bytesValue);
    return value.bytesValue;
  }
  if (Object.hasOwn(value, 'arrayValue')) {
    const values = own(value.arrayValue, 'values') ?? [];
    if (!Array.isArray(values)) throw bad('arrayValue', values);
    return values.map((element: unknown) => anyValuePlain(element, key, depth + 1) ?? null);
  }
  if (Object.hasOwn(value, 'kvlistValue')) {
    const values = own(value.kvlistValue, 'values') ?? [];
    if (!Array.isArray(values)) throw bad('kvlistValue', values);
    // fromEntries defines own properties: a "__proto__" key stays a plain key.
    return Object.fromEntries(
      values.map((entry: unknown) => {
        const entryKey = own(entry, 'key');
        if (typeof entryKey !== 'string') throw bad('kvlistValue key', entryKey);
        return [entryKey, anyValuePlain(own(entry, 'value'), key, depth + 1) ?? null];
      }),
    );
  }
  return undefined;
}

/** One histogram bucket: `count` observations in the range (lower, upper]. */
export interface Bucket {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
}

/**
 * The `q`-quantile of bucketed observations, interpolated linearly inside its bucket as Prometheus's
 * `histogram_quantile` does: with `total` observations, the rank is `q × total`; the answer lies in
 * the first bucket whose cumulative count reaches the rank, at
 * `lower + (upper − lower) × (rank − count below) / bucket count`. Undefined with no observations.
 */
export function bucketQuantile(q: number, buckets: readonly Bucket[]): number | undefined {
  const total = buckets.reduce((sum, bucket) => sum + bucket.count, 0);
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let below = 0;
  let last: Bucket | undefined;
  for (const bucket of buckets) {
    if (bucket.count <= 0) continue;
    last = bucket;
    if (below + bucket.count >= rank) {
      return bucket.lower + ((bucket.upper - bucket.lower) * (rank - below)) / bucket.count;
    }
    below += bucket.count;
  }
  return last?.upper;
}

/**
 * The buckets of an explicit-bounds histogram: `bucketCounts[i]` counts (bounds[i-1], bounds[i]].
 * The open ends are closed with `min` and `max` when present; otherwise the first bucket starts at
 * 0 (or at its upper bound if that is not positive) and the last ends at the highest bound, as in
 * Prometheus. Every edge is clamped to [min, max]. Undefined when the buckets are unusable (counts
 * not one more than bounds, bounds not increasing), in which case no quantiles are emitted.
 */
function explicitBuckets(
  point: Record<string, unknown>,
  min: number | undefined,
  max: number | undefined,
): Bucket[] | undefined {
  const counts = readCountArray(own(point, 'bucketCounts'));
  const bounds = readBoundArray(own(point, 'explicitBounds'));
  if (counts === undefined || bounds === undefined || counts.length !== bounds.length + 1) return undefined;
  const first = bounds[0];
  const last = bounds[bounds.length - 1];
  if (first === undefined || last === undefined) {
    return min === undefined || max === undefined
      ? undefined
      : [{ lower: min, upper: max, count: counts[0] ?? 0 }];
  }
  const buckets = counts.map((count, i) => ({
    lower: i === 0 ? (min ?? (first > 0 ? 0 : first)) : (bounds[i - 1] as number),
    upper: i === bounds.length ? (max ?? last) : (bounds[i] as number),
    count,
  }));
  return clampBuckets(buckets, min, max);
}

/**
 * The buckets of an exponential histogram: with base = 2^(2^−scale), positive bucket index i counts
 * (base^i, base^(i+1)], negative index i counts [−base^(i+1), −base^i), and the zero bucket
 * [−zeroThreshold, zeroThreshold]. Edges are clamped to [min, max] when present.
 */
function exponentialBuckets(
  point: Record<string, unknown>,
  min: number | undefined,
  max: number | undefined,
): Bucket[] | undefined {
  const scale = own(point, 'scale') ?? 0;
  if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < -10 || scale > 20) return undefined;
  const exponent = 2 ** -scale;
  const zeroThreshold = own(point, 'zeroThreshold') ?? 0;
  const zeroCount = readUint64(own(point, 'zeroCount'));
  const positive = readExponentialSide(own(point, 'positive'));
  const negative = readExponentialSide(own(point, 'negative'));
  if (typeof zeroThreshold !== 'number' || !(zeroThreshold >= 0)) return undefined;
  if (zeroCount === undefined || positive === undefined || negative === undefined) return undefined;
  const buckets: Bucket[] = [];
  for (let k = negative.counts.length - 1; k >= 0; k--) {
    const index = negative.offset + k;
    buckets.push({
      lower: -(2 ** ((index + 1) * exponent)),
      upper: -(2 ** (index * exponent)),
      count: negative.counts[k] ?? 0,
    });
  }
  buckets.push({ lower: -zeroThreshold, upper: zeroThreshold, count: zeroCount });
  positive.counts.forEach((count, k) => {
    const index = positive.offset + k;
    buckets.push({ lower: 2 ** (index * exponent), upper: 2 ** ((index + 1) * exponent), count });
  });
  return clampBuckets(buckets, min, max);
}

function readExponentialSide(side: unknown): { offset: number; counts: number[] } | undefined {
  if (side === undefined || side === null) return { offset: 0, counts: [] };
  const offset = own(side, 'offset') ?? 0;
  const counts = readCountArray(own(side, 'bucketCounts'));
  if (typeof offset !== 'number' || !Number.isInteger(offset) || counts === undefined) return undefined;
  return { offset, counts };
}

function clampBuckets(buckets: Bucket[], min: number | undefined, max: number | undefined): Bucket[] {
  const low = min !== undefined && Number.isFinite(min) ? min : Number.NEGATIVE_INFINITY;
  const high = max !== undefined && Number.isFinite(max) ? max : Number.POSITIVE_INFINITY;
  return buckets.map(({ lower, upper, count }) => ({
    lower: Math.min(Math.max(lower, low), high),
    upper: Math.max(Math.min(upper, high), low),
    count,
  }));
}

function readCountArray(value: unknown): number[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return undefined;
  const counts: number[] = [];
  for (const element of value) {
    const count = readUint64(element);
    if (count === undefined || element === null) return undefined;
    counts.push(count);
  }
  return counts;
}

function readBoundArray(value: unknown): number[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return undefined;
  let previous = Number.NEGATIVE_INFINITY;
  for (const bound of value) {
    if (typeof bound !== 'number' || !Number.isFinite(bound) || bound <= previous) return undefined;
    previous = bound;
  }
  return value as number[];
}
