/**
 * Metric queries: parsing and validating the query string, choosing a resolution, reading the
 * right blocks (plus not-yet-compacted segments for the freshest data) and aggregating by step
 * and group. Pure: the reader port arrives as an argument.
 */
import { PulseboardError, ValidationError } from '../errors';
import {
  BLOCK_SPAN_MS,
  type BlockKind,
  blockStart,
  DAY_MS,
  firstOpenBlock,
  HOUR_MS,
  isCompacted,
  MINUTE_MS,
  ON_TIME_BEFORE_MS,
  SECOND_MS,
  type SeriesPoint,
} from './blocks';
import { LABEL_KEY_PATTERN, METRIC_NAME_PATTERN } from './ingest/limits';
import { counterIncrease, mergeStats, type Stats, statsOf } from './rollup';

export const MAX_SERIES_PER_QUERY = 500;
export const MAX_POINTS_PER_SERIES = 11_000;
const MAX_REGEX_LENGTH = 256;
const MAX_RANGE_MS = 400 * DAY_MS;
const DEFAULT_RANGE_MS = HOUR_MS;
const TARGET_POINTS = 300;
/** Arrival minutes read when the compactor has never run. */
const NO_WATERMARK_LOOKBACK_MS = 70 * MINUTE_MS;

export const AGGREGATIONS = ['avg', 'min', 'max', 'sum', 'count', 'rate', 'p50', 'p95', 'p99'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];
export type Resolution = 'raw' | '1m' | '1h';

/** The smallest step each resolution can answer. */
export const RESOLUTION_STEP_MS: Readonly<Record<Resolution, number>> = {
  raw: SECOND_MS,
  '1m': MINUTE_MS,
  '1h': HOUR_MS,
};

/** Thrown when a valid query would do too much work; HTTP 422 through the error table. */
export class QueryTooLargeError extends PulseboardError {
  constructor(message: string) {
    super('UNPROCESSABLE', message);
  }
}

export interface SeriesInfo {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** What queries read from the table. */
export interface MetricsReader {
  listNames(): Promise<string[]>;
  listSeries(name: string): Promise<SeriesInfo[]>;
  readWatermark(): Promise<number | undefined>;
  /** Raw points per series id with t ∈ [from, to), time-ordered. */
  readRaw(ids: readonly string[], from: number, to: number): Promise<Map<string, [number, number][]>>;
  /** Rollup slots (slot start → stats) per series id with slot start ∈ [from, to). */
  readRollups(
    kind: 'm1' | 'h1',
    ids: readonly string[],
    from: number,
    to: number,
  ): Promise<Map<string, Map<number, Stats>>>;
  readSegmentMinute(arrivalMinute: number): Promise<SeriesPoint[]>;
}

/** Retention per resolution in seconds: a resolution whose data has expired is never chosen. */
export interface RetentionSeconds {
  readonly raw: number;
  readonly m1: number;
  readonly h1: number;
}

// ---- parsing -----------------------------------------------------------------------------------

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  readonly label: string;
  readonly op: MatchOp;
  readonly value: string;
}

const MATCHER = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;

/** Parses `host="web-1",env=~"prod|stage"` (optionally in braces) into matchers. */
export function parseMatchers(input: string): Matcher[] {
  let text = input.trim();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1).trim();
  const matchers: Matcher[] = [];
  MATCHER.lastIndex = 0;
  while (MATCHER.lastIndex < text.length) {
    const at = MATCHER.lastIndex;
    const m = MATCHER.exec(text);
    if (!m) {
      throw new ValidationError(
        `match: cannot parse at character ${at + 1}; expected label="value", label!="value", label=~"regex" or label!~"regex"`,
      );
    }
    const value = JSON.parse(`"${m[3]}"`) as string;
    const op = m[2] as MatchOp;
    if ((op === '=~' || op === '!~') && value.length > MAX_REGEX_LENGTH) {
      throw new ValidationError(`match: a regex may have at most ${MAX_REGEX_LENGTH} characters`);
    }
    matchers.push({ label: m[1] as string, op, value });
    if (m[4] === '') break;
  }
  return matchers;
}

/** A predicate over label sets; regexes are fully anchored like Prometheus, a missing label is "". */
export function compileMatchers(
  matchers: readonly Matcher[],
): (labels: Readonly<Record<string, string>>) => boolean {
  const tests = matchers.map(({ op, value }) => {
    if (op === '=') return (v: string) => v === value;
    if (op === '!=') return (v: string) => v !== value;
    let regex: RegExp;
    try {
      regex = new RegExp(`^(?:${value})$`);
    } catch {
      throw new ValidationError(`match: ${JSON.stringify(value)} is not a valid regular expression`);
    }
    return op === '=~' ? (v: string) => regex.test(v) : (v: string) => !regex.test(v);
  });
  return (labels) => matchers.every((m, i) => (tests[i] as (v: string) => boolean)(labels[m.label] ?? ''));
}

const UNIT_MS: Readonly<Record<string, number>> = {
  s: SECOND_MS,
  m: MINUTE_MS,
  h: HOUR_MS,
  d: DAY_MS,
  w: 7 * DAY_MS,
};

/** `90s`, `5m`, `1h`, `2d`, `1w`, or a plain number of seconds → milliseconds. */
export function parseDuration(input: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(input.trim());
  if (!m) throw new ValidationError(`${what}: "${input}" is not a duration like 30s, 5m, 1h, 7d or seconds`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : n * (UNIT_MS[m[2] ?? 's'] as number);
  const rounded = Math.round(ms);
  // A 400-digit number is Infinity, and 0.0001 s rounds to 0: neither is a usable step.
  if (!Number.isFinite(rounded) || rounded <= 0) {
    throw new ValidationError(`${what} must be a positive, finite duration of at least 1 ms`);
  }
  return rounded;
}

/** Epoch milliseconds, ISO 8601, `now`, or `now-1h` / `now+5m`. */
export function parseTime(input: string, now: number, what: string): number {
  const text = input.trim();
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const relative = /^now(?:([+-])(.+))?$/.exec(text);
  if (relative) {
    if (!relative[1]) return now;
    const offset = parseDuration(relative[2] as string, what);
    return relative[1] === '-' ? now - offset : now + offset;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const parsed = Date.parse(text);
    if (Number.isFinite(parsed)) return parsed;
  }
  throw new ValidationError(`${what}: "${input}" is not epoch milliseconds, ISO 8601 or now[-+]duration`);
}

export interface MetricQuery {
  readonly name: string;
  readonly matchers: readonly Matcher[];
  readonly from: number;
  readonly to: number;
  readonly step?: number;
  readonly agg: Aggregation;
  readonly groupBy: readonly string[];
}

/** Validates `name, match, from, to, step, agg, group_by` query parameters. */
export function parseQuery(params: Readonly<Record<string, string | undefined>>, now: number): MetricQuery {
  const name = params.name;
  if (!name) throw new ValidationError('name is required');
  if (!METRIC_NAME_PATTERN.test(name)) throw new ValidationError('name must match [a-zA-Z_:][a-zA-Z0-9_:]*');
  const to = params.to ? parseTime(params.to, now, 'to') : now;
  const from = params.from ? parseTime(params.from, now, 'from') : to - DEFAULT_RANGE_MS;
  if (from >= to) throw new ValidationError('from must be before to');
  if (to - from > MAX_RANGE_MS) throw new ValidationError('the range from..to may span at most 400 days');
  const agg = (params.agg ?? 'avg') as Aggregation;
  if (!AGGREGATIONS.includes(agg)) throw new ValidationError(`agg must be one of ${AGGREGATIONS.join(', ')}`);
  const groupBy = params.group_by
    ? params.group_by
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
  for (const label of groupBy) {
    if (!LABEL_KEY_PATTERN.test(label)) throw new ValidationError(`group_by: "${label}" is not a label name`);
  }
  const matchers = params.match ? parseMatchers(params.match) : [];
  compileMatchers(matchers); // validates regexes up front
  return {
    name,
    matchers,
    from,
    to,
    step: params.step ? parseDuration(params.step, 'step') : undefined,
    agg,
    groupBy,
  };
}

// ---- planning ----------------------------------------------------------------------------------

export interface QueryPlan {
  readonly resolution: Resolution;
  readonly step: number;
  /** from and to snapped to multiples of step. */
  readonly from: number;
  readonly to: number;
}

/**
 * Raw blocks up to 6 h of range, 1-minute rollups up to 7 d, hourly beyond; a resolution whose
 * retention no longer covers `from` is skipped. A step below the resolution is raised to it, and
 * rollup steps are whole multiples of the rollup.
 */
export function planQuery(
  query: Pick<MetricQuery, 'from' | 'to' | 'step'>,
  now: number,
  retention?: RetentionSeconds,
): QueryPlan {
  const range = query.to - query.from;
  const age = now - query.from;
  let resolution: Resolution = range <= 6 * HOUR_MS ? 'raw' : range <= 7 * DAY_MS ? '1m' : '1h';
  if (retention) {
    if (resolution === 'raw' && age > retention.raw * 1000) resolution = '1m';
    if (resolution === '1m' && age > retention.m1 * 1000) resolution = '1h';
  }
  const unit = resolution === 'raw' ? 10 * SECOND_MS : RESOLUTION_STEP_MS[resolution];
  const minimum = RESOLUTION_STEP_MS[resolution];
  let step = query.step ?? Math.ceil(range / TARGET_POINTS / unit) * unit;
  step = Math.max(step, minimum);
  if (resolution !== 'raw') step = Math.ceil(step / minimum) * minimum;
  const from = Math.floor(query.from / step) * step;
  const to = Math.ceil(query.to / step) * step;
  const points = (to - from) / step;
  if (points > MAX_POINTS_PER_SERIES) {
    throw new ValidationError(
      `step ${step / 1000}s over this range gives ${points} points per series (at most ${MAX_POINTS_PER_SERIES}); use a larger step`,
    );
  }
  return { resolution, step, from, to };
}

// ---- execution ---------------------------------------------------------------------------------

export interface QueryResponse {
  readonly name: string;
  readonly resolution: Resolution;
  readonly step: number;
  readonly from: number;
  readonly to: number;
  readonly agg: Aggregation;
  readonly series: { labels: Record<string, string>; points: [number, number][] }[];
}

/** One series' data in one step bucket. */
interface Bucket {
  stats: Stats;
  /** Exact values (raw resolution only), for exact percentiles. */
  values?: number[];
  /** Counter increase attributed to this bucket, for rate. */
  increase: number;
}

/** Runs a query. */
export async function runQuery(
  query: MetricQuery,
  reader: MetricsReader,
  now: number,
  retention?: RetentionSeconds,
): Promise<QueryResponse> {
  const plan = planQuery(query, now, retention);
  const matches = compileMatchers(query.matchers);
  const series = (await reader.listSeries(query.name)).filter((s) => matches(s.labels));
  if (series.length > MAX_SERIES_PER_QUERY) {
    throw new QueryTooLargeError(
      `the matchers select ${series.length} series (at most ${MAX_SERIES_PER_QUERY}); narrow them or use group_by with fewer series`,
    );
  }
  const ids = series.map((s) => s.id);
  const watermark = await reader.readWatermark();

  // Per series: time-ordered (slot start, stats, exact values?) in [from - one slot, to).
  const slotted = new Map<string, { t: number; stats: Stats; values?: number[] }[]>(
    ids.map((id) => [id, []]),
  );
  if (series.length > 0) {
    if (plan.resolution === 'raw') {
      const points = await freshRaw(reader, ids, plan.from - plan.step, plan.to, watermark, now);
      for (const [id, list] of points) {
        const out = slotted.get(id);
        for (const [t, v] of list) out?.push({ t, stats: statsOf([v]), values: [v] });
      }
    } else {
      const kind = plan.resolution === '1m' ? 'm1' : 'h1';
      const slot = RESOLUTION_STEP_MS[plan.resolution];
      const rollTo = watermark === undefined ? plan.from : firstOpenBlock(kind, watermark);
      const from = plan.from - slot;
      if (rollTo > from) {
        const rollups = await reader.readRollups(kind, ids, from, Math.min(rollTo, plan.to));
        for (const [id, slots] of rollups) {
          const out = slotted.get(id);
          for (const [t, stats] of [...slots].sort((a, b) => a[0] - b[0])) out?.push({ t, stats });
        }
      }
      if (plan.to > Math.max(rollTo, from)) {
        const tailFrom = Math.max(rollTo, from);
        const points = await freshRaw(reader, ids, tailFrom, plan.to, watermark, now);
        for (const [id, list] of points) {
          const grouped = new Map<number, number[]>();
          for (const [t, v] of list) {
            const s = Math.floor(t / slot) * slot;
            grouped.set(s, [...(grouped.get(s) ?? []), v]);
          }
          const out = slotted.get(id);
          for (const [t, values] of grouped) out?.push({ t, stats: statsOf(values) });
        }
      }
    }
  }

  // Step buckets per series, then groups.
  const groups = new Map<string, { labels: Record<string, string>; buckets: Map<number, Bucket[]> }>();
  for (const s of series) {
    const buckets = toBuckets(slotted.get(s.id) ?? [], plan, plan.resolution === 'raw');
    const labels = Object.fromEntries(
      query.groupBy.filter((l) => s.labels[l] !== undefined).map((l) => [l, s.labels[l] as string]),
    );
    const key = JSON.stringify(labels);
    let group = groups.get(key);
    if (!group) {
      group = { labels, buckets: new Map() };
      groups.set(key, group);
    }
    for (const [t, bucket] of buckets) group.buckets.set(t, [...(group.buckets.get(t) ?? []), bucket]);
  }

  const result = [...groups.values()]
    .map(({ labels, buckets }) => ({
      labels,
      points: [...buckets]
        .sort((a, b) => a[0] - b[0])
        .map(([t, list]) => [t, aggregate(query.agg, list, plan.step)] as [number, number])
        .filter(([, v]) => Number.isFinite(v)),
    }))
    .sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));

  return {
    name: query.name,
    resolution: plan.resolution,
    step: plan.step,
    from: plan.from,
    to: plan.to,
    agg: query.agg,
    series: result,
  };
}

/** Groups one series' time-ordered slots into step buckets in [from, to), with counter increases. */
function toBuckets(
  slots: readonly { t: number; stats: Stats; values?: number[] }[],
  plan: QueryPlan,
  exact: boolean,
): Map<number, Bucket> {
  const buckets = new Map<number, Bucket>();
  let previousLast: number | undefined;
  for (const { t, stats, values } of [...slots].sort((a, b) => a.t - b.t)) {
    const boundary = previousLast === undefined ? 0 : counterIncrease(previousLast, stats.first);
    previousLast = stats.last;
    if (t < plan.from || t >= plan.to) continue;
    const start = Math.floor(t / plan.step) * plan.step;
    const bucket = buckets.get(start);
    if (!bucket) {
      buckets.set(start, {
        stats,
        values: exact ? [...(values ?? [])] : undefined,
        increase: stats.inc + boundary,
      });
    } else {
      bucket.stats = mergeStats(bucket.stats, stats);
      if (exact) bucket.values?.push(...(values ?? []));
      bucket.increase += stats.inc + boundary;
    }
  }
  return buckets;
}

const QUANTILE: Readonly<Record<string, number>> = { p50: 0.5, p95: 0.95, p99: 0.99 };

/** The aggregate of one group's series in one bucket. */
export function aggregate(agg: Aggregation, buckets: readonly Bucket[], step: number): number {
  const all = buckets.map((b) => b.stats);
  switch (agg) {
    case 'count':
      return all.reduce((n, s) => n + s.count, 0);
    case 'sum':
      return all.reduce((n, s) => n + s.sum, 0);
    case 'avg':
      return all.reduce((n, s) => n + s.sum, 0) / all.reduce((n, s) => n + s.count, 0);
    case 'min':
      return Math.min(...all.map((s) => s.min));
    case 'max':
      return Math.max(...all.map((s) => s.max));
    case 'rate':
      return buckets.reduce((n, b) => n + b.increase, 0) / (step / 1000);
    default: {
      const q = QUANTILE[agg] as number;
      if (buckets.every((b) => b.values))
        return exactQuantile(
          buckets.flatMap((b) => b.values ?? []),
          q,
        );
      const sketch = all[0]?.sketch.clone();
      for (const s of all.slice(1)) sketch?.merge(s.sketch);
      const value = sketch?.quantile(q) ?? Number.NaN;
      // The true value lies within [min, max]; clamping only moves the estimate closer.
      return Math.min(
        Math.max(value, Math.min(...all.map((s) => s.min))),
        Math.max(...all.map((s) => s.max)),
      );
    }
  }
}

/** The value at rank ⌊q·(n−1)⌋ of the sorted values (the rank the sketch's guarantee refers to). */
export function exactQuantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

/**
 * Raw points of the series in [from, to): raw blocks, plus points still only in segments (arrival
 * minutes not compacted yet) when the range reaches the blocks that are not finalized.
 */
async function freshRaw(
  reader: MetricsReader,
  ids: readonly string[],
  from: number,
  to: number,
  watermark: number | undefined,
  now: number,
): Promise<Map<string, [number, number][]>> {
  const blocks = await reader.readRaw(ids, from, to);
  const openFrom =
    watermark === undefined ? now - NO_WATERMARK_LOOKBACK_MS : firstOpenBlock('raw', watermark);
  if (to <= openFrom) return blocks;
  const wanted = new Set(ids);
  // Without a watermark nothing is compacted yet: look back NO_WATERMARK_LOOKBACK_MS, not a whole day.
  const w = watermark ?? openFrom;
  const firstMinute = Math.floor((Math.min(openFrom, w) - ON_TIME_BEFORE_MS) / MINUTE_MS) * MINUTE_MS;
  const minutes: number[] = [];
  for (let m = Math.max(firstMinute, now - DAY_MS); m <= now; m += MINUTE_MS) minutes.push(m);
  const merged = new Map<string, Map<number, number>>(
    [...blocks].map(([id, list]) => [id, new Map(list.map(([t, v]) => [t, v]))]),
  );
  const perMinute = await mapLimit(minutes, 16, (m) => reader.readSegmentMinute(m));
  minutes.forEach((m, i) => {
    for (const p of perMinute[i] ?? []) {
      if (!wanted.has(p.id) || p.t < from || p.t >= to) continue;
      if (watermark !== undefined && isCompacted('raw', p.t, m, watermark)) continue;
      let series = merged.get(p.id);
      if (!series) {
        series = new Map();
        merged.set(p.id, series);
      }
      series.set(p.t, p.v);
    }
  });
  return new Map(
    [...merged].map(
      ([id, points]) => [id, [...points].sort((a, b) => a[0] - b[0])] as [string, [number, number][]],
    ),
  );
}

/** Maps with at most `limit` calls in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Which blocks of a kind cover a time: exported for the adapter's reads. */
export const rawBlockStart = (t: number) => blockStart('raw' as BlockKind, t);
export const RAW_BLOCK_SPAN_MS = BLOCK_SPAN_MS.raw;

// ---- pickers -----------------------------------------------------------------------------------

/** Validates the label values request. */
export function parseLabelValuesRequest(
  label: string | undefined,
  name: string | undefined,
): {
  label: string;
  name: string;
} {
  if (!label || !LABEL_KEY_PATTERN.test(label)) throw new ValidationError('label must be a label name');
  if (!name) throw new ValidationError('name is required');
  if (!METRIC_NAME_PATTERN.test(name)) throw new ValidationError('name must match [a-zA-Z_:][a-zA-Z0-9_:]*');
  return { label, name };
}

/** Distinct values of one label across a metric's series, sorted. */
export async function labelValues(reader: MetricsReader, name: string, label: string): Promise<string[]> {
  const values = new Set<string>();
  for (const s of await reader.listSeries(name)) {
    const v = s.labels[label];
    if (v !== undefined) values.add(v);
  }
  return [...values].sort();
}
