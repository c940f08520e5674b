/**
 * Alert rules: their types, and parsing untrusted rule definitions (an API body, a GitOps file)
 * into them. Every problem is reported as one issue with a field path, all at once, and fields a
 * rule kind does not know are refused, so a typo never silently changes what a rule does.
 *
 * Input fields are snake_case, as in Prometheus rule files; the parsed {@link AlertRule} is
 * camelCase with every duration in milliseconds and every default filled in.
 */
import { type Issue, ValidationError } from '../../errors';
import {
  InvalidChannelError,
  type LabelMatcher,
  MAX_CHANNEL_LENGTH,
  type MetricChannel,
  matches,
  parseChannel,
} from '../channels';
import { describe, isRecord, preview } from '../ingest/inspect';
import {
  LABEL_KEY_PATTERN,
  MAX_LABEL_KEY_LENGTH,
  MAX_LABEL_VALUE_BYTES,
  MAX_LABELS,
  MAX_METRIC_NAME_LENGTH,
  METRIC_NAME_PATTERN,
  RESERVED_LABEL_PREFIX,
} from '../ingest/limits';
import { fnv1a64 } from './fingerprint';
import { templateProblem } from './template';

// ---- limits ------------------------------------------------------------------------------------

/** A rule name: an identifier that may also hold `:` and `-`. */
export const RULE_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_:-]*$/;
export const MAX_RULE_NAME_LENGTH = 100;
/** The longest `for`, `keep_firing_for` and `window`: 24 hours. */
export const MAX_DURATION_MS = 24 * 60 * 60 * 1000;
/** The most datapoints an `m_of_n` or `stddev` rule looks back over (the state stores them). */
export const MAX_WINDOW_POINTS = 100;
/** The most annotations a rule may carry. */
export const MAX_ANNOTATIONS = 16;
/** The longest annotation template, in characters (its rendered text is capped separately, at 1 KB). */
export const MAX_ANNOTATION_LENGTH = 4096;
const CHANNEL_WRAPPER = 'metrics:m{}';
/**
 * The longest `matchers` text: the channel grammar's own limit, less the `metrics:m{}` around it
 * (rules reuse the WebSocket channel parser, so they accept exactly the same matchers).
 */
export const MAX_MATCHERS_LENGTH = MAX_CHANNEL_LENGTH - CHANNEL_WRAPPER.length;
/** The most rules one rule file may hold. */
export const MAX_RULES_PER_FILE = 500;
/** The largest rule file, in characters. */
export const MAX_RULE_FILE_LENGTH = 1024 * 1024;
/** The largest threshold magnitude: beyond it a float64 cannot tell neighbouring integers apart anyway. */
export const MAX_ABS_THRESHOLD = 1e15;

// ---- types -------------------------------------------------------------------------------------

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const COMPARISONS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type Comparison = (typeof COMPARISONS)[number];

export const RULE_KINDS = ['threshold', 'm_of_n', 'absence', 'rate_of_change', 'anomaly'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export const ANOMALY_DIRECTIONS = ['both', 'above', 'below'] as const;
export type AnomalyDirection = (typeof ANOMALY_DIRECTIONS)[number];

/** What every rule kind has. */
export interface RuleCommon {
  readonly name: string;
  readonly metric: string;
  /** The matchers' canonical text (sorted, re-escaped, no braces), `''` when the rule selects every series. */
  readonly matchers: string;
  /** The parsed matchers; a series must satisfy all of them. */
  readonly selector: MetricChannel;
  readonly severity: Severity;
  /** Static labels added to every alert of the rule; they win over series labels. */
  readonly labels: Readonly<Record<string, string>>;
  /** Annotation templates (see template.ts), rendered per alert. */
  readonly annotations: Readonly<Record<string, string>>;
  /** How long the condition must hold before the alert fires; 0 fires at once. For `absence`, how long the series must be silent. */
  readonly forMs: number;
  /** How long a firing alert stays firing after its condition stops holding. */
  readonly keepFiringForMs: number;
  /**
   * A digest of everything that decides a datapoint's condition (kind, metric, matchers and the
   * kind's parameters). Evaluation state remembers it and resets its windows when it changes.
   */
  readonly digest: string;
}

/** Breaches while a datapoint satisfies `value <op> threshold`. */
export interface ThresholdRule extends RuleCommon {
  readonly kind: 'threshold';
  readonly op: Comparison;
  readonly value: number;
}

/** Breaches while at least `m` of the series' last `n` datapoints satisfy `value <op> threshold`. */
export interface MOfNRule extends RuleCommon {
  readonly kind: 'm_of_n';
  readonly op: Comparison;
  readonly value: number;
  readonly m: number;
  readonly n: number;
}

/**
 * Fires when a series has sent no datapoint for `for` (checked on the schedule, not on ingest),
 * and, once per rule, when no series matching the matchers has sent one for `for` (Prometheus's
 * `absent_over_time`): that alert carries the labels of the rule's equality matchers.
 */
export interface AbsenceRule extends RuleCommon {
  readonly kind: 'absence';
}

/**
 * Breaches while the per-second change satisfies `rate <op> value`: between consecutive
 * datapoints, or, with `window`, between the oldest datapoint within `window` and the newest.
 */
export interface RateOfChangeRule extends RuleCommon {
  readonly kind: 'rate_of_change';
  readonly op: Comparison;
  /** Per second. */
  readonly value: number;
  /** 0 compares consecutive datapoints. */
  readonly windowMs: number;
}

/**
 * `stddev`: a datapoint is anomalous when it lies more than `k` population standard deviations
 * from the mean of the series' previous `window_points` datapoints (default 60, at most 100). It
 * cannot fire until `min_points` (default 20, at most `window_points`) datapoints are in the window:
 * that is the warm-up. The datapoint then joins the window, so a lasting level shift stops being
 * anomalous once it fills the window; pair it with `for` to ignore single spikes.
 *
 * `ewma`: the baseline is an exponentially weighted mean and variance with smoothing `alpha`
 * (0 < α ≤ 1; the memory is about 2/α − 1 datapoints): a datapoint is anomalous when it lies more
 * than `k` standard deviations from the mean before it is folded in. The first datapoint sets the
 * mean (variance 0); it cannot fire until `min_points` (default 20) datapoints have been seen.
 *
 * For both, `direction` limits the band to one side (`above`, `below`; default `both`). A
 * baseline with zero variance (a constant series) treats any different value as anomalous and the
 * same value as normal; differences below 1e-9 of the mean's magnitude count as the same value.
 */
export type AnomalyRule = StddevAnomalyRule | EwmaAnomalyRule;

interface AnomalyCommon extends RuleCommon {
  readonly kind: 'anomaly';
  /** Standard deviations from the mean. */
  readonly k: number;
  readonly direction: AnomalyDirection;
  readonly minPoints: number;
}

export interface StddevAnomalyRule extends AnomalyCommon {
  readonly method: 'stddev';
  readonly windowPoints: number;
}

export interface EwmaAnomalyRule extends AnomalyCommon {
  readonly method: 'ewma';
  readonly alpha: number;
}

/** A parsed, valid alert rule. */
export type AlertRule = ThresholdRule | MOfNRule | AbsenceRule | RateOfChangeRule | AnomalyRule;

/** Whether a series (metric name and labels) is one the rule watches. */
export function ruleSelects(
  rule: AlertRule,
  metric: string,
  labels: Readonly<Record<string, string>>,
): boolean {
  return matches(rule.selector, { name: metric, labels, value: 0, timestamp: 0 });
}

/**
 * The labels an `absence` rule's per-rule alert carries: one per equality matcher (`host="web-1"`
 * gives `host: web-1`), as Prometheus's `absent()` does.
 */
export function absenceLabels(rule: AlertRule): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const matcher of rule.selector.matchers) {
    if (matcher.op === '=' && matcher.value !== '') labels[matcher.label] = matcher.value;
  }
  return labels;
}

/** Whether `value <op> threshold` holds. */
export function compare(value: number, op: Comparison, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

// ---- durations ---------------------------------------------------------------------------------

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const DURATION = /^(?:\d+(?:ms|s|m|h|d|w))+$/;
const DURATION_PART = /(\d+)(ms|s|m|h|d|w)/g;

/**
 * A Prometheus duration (`30s`, `5m`, `1h30m`, `500ms`; units ms s m h d w, largest first) or `0`,
 * in milliseconds; `undefined` when the text is not one.
 */
export function parseRuleDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text.length > 32 || !DURATION.test(text)) return undefined;
  let total = 0;
  let lastUnit = Number.POSITIVE_INFINITY;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) {
    const size = DURATION_UNITS[unit as string] as number;
    if (size >= lastUnit) return undefined;
    lastUnit = size;
    total += Number(amount) * size;
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/** Milliseconds as the shortest Prometheus duration text (`90000` → `1m30s`). */
export function formatRuleDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['w', 'd', 'h', 'm', 's', 'ms']) {
    const size = DURATION_UNITS[unit] as number;
    const amount = Math.floor(rest / size);
    if (amount > 0) out += `${amount}${unit}`;
    rest -= amount * size;
  }
  return out;
}

// ---- parsing -----------------------------------------------------------------------------------

const COMMON_FIELDS = [
  'name',
  'kind',
  'metric',
  'matchers',
  'severity',
  'labels',
  'annotations',
  'for',
  'keep_firing_for',
] as const;

const KIND_FIELDS: Readonly<Record<RuleKind, readonly string[]>> = {
  threshold: ['op', 'value'],
  m_of_n: ['op', 'value', 'm', 'n'],
  absence: [],
  rate_of_change: ['op', 'value', 'window'],
  anomaly: ['method', 'k', 'direction', 'min_points', 'window_points', 'alpha'],
};

const METHOD_FIELDS: Readonly<Record<'stddev' | 'ewma', readonly string[]>> = {
  stddev: ['window_points'],
  ewma: ['alpha'],
};

/** Reads one rule's fields, collecting every issue under a path prefix. */
class RuleReader {
  readonly issues: Issue[] = [];

  constructor(
    private readonly input: Record<string, unknown>,
    private readonly prefix: string,
  ) {}

  issue(field: string, message: string): undefined {
    this.issues.push({ path: this.prefix + field, message });
    return undefined;
  }

  has(field: string): boolean {
    return Object.hasOwn(this.input, field) && this.input[field] !== undefined;
  }

  raw(field: string): unknown {
    return Object.hasOwn(this.input, field) ? this.input[field] : undefined;
  }

  string(field: string, required: boolean): string | undefined {
    const value = this.raw(field);
    if (value === undefined || value === null) {
      return required ? this.issue(field, 'is required') : undefined;
    }
    if (typeof value !== 'string') return this.issue(field, `must be a string, not ${describe(value)}`);
    return value;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[], fallback?: T): T | undefined {
    const value = this.raw(field);
    if ((value === undefined || value === null) && fallback !== undefined) return fallback;
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    if (value === undefined || value === null)
      return this.issue(field, `is required: one of ${allowed.join(', ')}`);
    // YAML reads a bare `op: >` as an empty folded block and `op: !=` as a tag: say how to write it.
    const hint = field === 'op' && value === '' ? ` (in YAML, quote operators: op: '>')` : '';
    return this.issue(field, `must be one of ${allowed.join(', ')}, not ${describe(value)}${hint}`);
  }

  number(
    field: string,
    bounds: { min: number; max: number; integer?: boolean; exclusiveMin?: boolean; fallback?: number },
  ): number | undefined {
    const value = this.raw(field);
    if (value === undefined || value === null) {
      return bounds.fallback ?? this.issue(field, 'is required');
    }
    if (typeof value !== 'number') return this.issue(field, `must be a number, not ${describe(value)}`);
    if (!Number.isFinite(value)) return this.issue(field, 'must be a finite number');
    if (bounds.integer && !Number.isInteger(value))
      return this.issue(field, `must be an integer, not ${value}`);
    const low = bounds.exclusiveMin ? value <= bounds.min : value < bounds.min;
    if (low || value > bounds.max) {
      const from = bounds.exclusiveMin ? `greater than ${bounds.min}` : `at least ${bounds.min}`;
      return this.issue(field, `must be ${from} and at most ${bounds.max}, not ${value}`);
    }
    return value;
  }

  duration(field: string, bounds: { min: number; max: number; fallback?: number }): number | undefined {
    const value = this.raw(field);
    if (value === undefined || value === null) return bounds.fallback ?? this.issue(field, 'is required');
    if (typeof value !== 'string') {
      return this.issue(
        field,
        `must be a duration string like "30s", "5m" or "1h30m", not ${describe(value)}`,
      );
    }
    const ms = parseRuleDuration(value);
    if (ms === undefined) {
      const hint = value.trim().startsWith('-') ? ' (durations cannot be negative)' : '';
      return this.issue(
        field,
        `must be a duration like "30s", "5m" or "1h30m" (units ms, s, m, h, d, w), not ${preview(value)}${hint}`,
      );
    }
    if (ms < bounds.min || ms > bounds.max) {
      return this.issue(
        field,
        `must be between ${formatRuleDuration(bounds.min)} and ${formatRuleDuration(bounds.max)}, not ${value}`,
      );
    }
    return ms;
  }

  /** Refuses every field not in `allowed`, suggesting the nearest allowed one. */
  rejectUnknown(allowed: readonly string[], context: string): void {
    for (const key of Object.keys(this.input)) {
      if (allowed.includes(key)) continue;
      const near = nearest(key, allowed);
      this.issues.push({
        path: this.prefix + key.slice(0, 100),
        message: `is not a field of ${context}${near ? ` (did you mean "${near}"?)` : ''}`,
      });
    }
  }
}

/**
 * Parses and validates one alert rule. Throws a {@link ValidationError} whose `issues` name every
 * problem by field path (`op`, `labels.team`, …).
 */
export function parseRule(input: unknown): AlertRule {
  const { rule, issues } = readRule(input, '');
  if (!rule) throw invalid(issues, ruleNameOf(input));
  return rule;
}

function invalid(issues: readonly Issue[], name: string | undefined): ValidationError {
  const first = issues[0];
  const what = name ? `Invalid alert rule ${preview(name)}` : 'Invalid alert rule';
  const detail = first ? `: ${first.path ? `${first.path} ` : ''}${first.message}` : '';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new ValidationError(`${what}${detail}${more}`, issues);
}

function ruleNameOf(input: unknown): string | undefined {
  return isRecord(input) && Object.hasOwn(input, 'name') && typeof input.name === 'string'
    ? input.name
    : undefined;
}

function readRule(input: unknown, prefix: string): { rule?: AlertRule; issues: Issue[] } {
  if (!isRecord(input)) {
    return {
      issues: [
        { path: prefix.replace(/\.$/, ''), message: `a rule must be an object, not ${describe(input)}` },
      ],
    };
  }
  const r = new RuleReader(input, prefix);

  const kind = r.oneOf('kind', RULE_KINDS);
  const method = kind === 'anomaly' ? r.oneOf('method', ['stddev', 'ewma'] as const) : undefined;
  if (kind) {
    const allowed = [...COMMON_FIELDS, ...KIND_FIELDS[kind]].filter(
      (field) =>
        kind !== 'anomaly' ||
        !method ||
        !['window_points', 'alpha'].includes(field) ||
        METHOD_FIELDS[method].includes(field),
    );
    r.rejectUnknown(
      allowed,
      kind === 'anomaly' && method
        ? `an anomaly rule with method ${method}`
        : `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} rule`,
    );
  } else {
    r.rejectUnknown([...new Set([...COMMON_FIELDS, ...Object.values(KIND_FIELDS).flat()])], 'an alert rule');
  }

  const name = r.string('name', true);
  if (name !== undefined) {
    if (name.length === 0 || name.length > MAX_RULE_NAME_LENGTH) {
      r.issue('name', `must have 1–${MAX_RULE_NAME_LENGTH} characters`);
    } else if (!RULE_NAME_PATTERN.test(name)) {
      r.issue('name', `must match [a-zA-Z_][a-zA-Z0-9_:-]*, not ${preview(name)}`);
    }
  }

  const metric = r.string('metric', true);
  if (metric !== undefined && (metric.length > MAX_METRIC_NAME_LENGTH || !METRIC_NAME_PATTERN.test(metric))) {
    r.issue(
      'metric',
      `must match [a-zA-Z_:][a-zA-Z0-9_:]* (at most ${MAX_METRIC_NAME_LENGTH} characters), not ${preview(metric)}`,
    );
  }

  const matchers = readMatchers(r);
  const severity = r.oneOf('severity', SEVERITIES);
  const labels = readLabels(r);
  const annotations = readAnnotations(r);
  const forMs =
    kind === 'absence' && !r.has('for')
      ? r.issue('for', 'is required for absence rules: how long a series must be silent, e.g. "5m"')
      : r.duration('for', { min: kind === 'absence' ? 1000 : 0, max: MAX_DURATION_MS, fallback: 0 });
  const keepFiringForMs = r.duration('keep_firing_for', { min: 0, max: MAX_DURATION_MS, fallback: 0 });

  const specific = kind ? readKind(r, kind, method) : undefined;

  if (
    r.issues.length > 0 ||
    !kind ||
    name === undefined ||
    metric === undefined ||
    !matchers ||
    !severity ||
    !labels ||
    !annotations ||
    forMs === undefined ||
    keepFiringForMs === undefined ||
    !specific
  ) {
    return { issues: r.issues };
  }
  const selector: MetricChannel = {
    kind: 'metrics',
    metric,
    matchers: matchers.parsed,
    text: `metrics:${metric}${matchers.text ? `{${matchers.text}}` : ''}`,
  };
  const digest = fnv1a64(JSON.stringify({ kind, metric, matchers: matchers.text, ...specific }));
  const common: RuleCommon = {
    name,
    metric,
    matchers: matchers.text,
    selector,
    severity,
    labels,
    annotations,
    forMs,
    keepFiringForMs,
    digest,
  };
  return { rule: { ...common, kind, ...specific } as AlertRule, issues: [] };
}

type KindFields =
  | Omit<ThresholdRule, keyof RuleCommon | 'kind'>
  | Omit<MOfNRule, keyof RuleCommon | 'kind'>
  | Omit<RateOfChangeRule, keyof RuleCommon | 'kind'>
  | Omit<StddevAnomalyRule, keyof RuleCommon | 'kind'>
  | Omit<EwmaAnomalyRule, keyof RuleCommon | 'kind'>
  | Record<string, never>;

function readKind(
  r: RuleReader,
  kind: RuleKind,
  method: 'stddev' | 'ewma' | undefined,
): KindFields | undefined {
  const threshold = { min: -MAX_ABS_THRESHOLD, max: MAX_ABS_THRESHOLD };
  switch (kind) {
    case 'threshold': {
      const op = r.oneOf('op', COMPARISONS);
      const value = r.number('value', threshold);
      return op && value !== undefined ? { op, value } : undefined;
    }
    case 'm_of_n': {
      const op = r.oneOf('op', COMPARISONS);
      const value = r.number('value', threshold);
      const n = r.number('n', { min: 1, max: MAX_WINDOW_POINTS, integer: true });
      const m = r.number('m', { min: 1, max: MAX_WINDOW_POINTS, integer: true });
      if (m !== undefined && n !== undefined && m > n) {
        return r.issue('m', `must be at most n (${n}): an alert needs m of the last n datapoints, not ${m}`);
      }
      return op && value !== undefined && m !== undefined && n !== undefined
        ? { op, value, m, n }
        : undefined;
    }
    case 'absence':
      return {};
    case 'rate_of_change': {
      const op = r.oneOf('op', COMPARISONS);
      const value = r.number('value', threshold);
      const windowMs = r.duration('window', { min: 1000, max: MAX_DURATION_MS, fallback: 0 });
      return op && value !== undefined && windowMs !== undefined ? { op, value, windowMs } : undefined;
    }
    case 'anomaly': {
      const k = r.number('k', { min: 0, max: 100, exclusiveMin: true, fallback: 3 });
      const direction = r.oneOf('direction', ANOMALY_DIRECTIONS, 'both');
      if (!method) return undefined;
      if (method === 'stddev') {
        const windowPoints = r.number('window_points', {
          min: 2,
          max: MAX_WINDOW_POINTS,
          integer: true,
          fallback: 60,
        });
        const minPoints = r.number('min_points', {
          min: 2,
          max: MAX_WINDOW_POINTS,
          integer: true,
          fallback: Math.min(20, windowPoints ?? 20),
        });
        if (windowPoints !== undefined && minPoints !== undefined && minPoints > windowPoints) {
          return r.issue('min_points', `must be at most window_points (${windowPoints}), not ${minPoints}`);
        }
        return k !== undefined && direction && windowPoints !== undefined && minPoints !== undefined
          ? { method, k, direction, windowPoints, minPoints }
          : undefined;
      }
      const alpha = r.number('alpha', { min: 0, max: 1, exclusiveMin: true });
      const minPoints = r.number('min_points', { min: 1, max: 10_000, integer: true, fallback: 20 });
      return k !== undefined && direction && alpha !== undefined && minPoints !== undefined
        ? { method, k, direction, alpha, minPoints }
        : undefined;
    }
  }
}

function readMatchers(r: RuleReader): { text: string; parsed: readonly LabelMatcher[] } | undefined {
  const text = r.string('matchers', false) ?? '';
  if (r.has('matchers') && typeof r.raw('matchers') !== 'string') return undefined;
  let body = text.trim();
  if (body.startsWith('{') && body.endsWith('}')) body = body.slice(1, -1);
  if (body.trim() === '') return { text: '', parsed: [] };
  if (body.length > MAX_MATCHERS_LENGTH) {
    return r.issue('matchers', `must have at most ${MAX_MATCHERS_LENGTH} characters`);
  }
  const offset = 'metrics:m{'.length;
  try {
    const channel = parseChannel(`metrics:m{${body}}`);
    if (channel.kind !== 'metrics') return r.issue('matchers', 'are not label matchers');
    const canonical = channel.text.slice('metrics:m'.length);
    return { text: canonical.startsWith('{') ? canonical.slice(1, -1) : canonical, parsed: channel.matchers };
  } catch (error) {
    if (error instanceof InvalidChannelError) {
      const reason = error.reason
        .replace(
          /\(at character (\d+)\)/,
          (_, at: string) => `(at character ${Math.min(Math.max(1, Number(at) - offset), body.length + 1)})`,
        )
        .replace('unexpected text after the channel', 'unexpected text after the matchers')
        .replace(
          'the metric name goes before the braces, not in a __name__ matcher',
          'set the metric name with the metric field, not a __name__ matcher',
        );
      return r.issue('matchers', reason);
    }
    throw error;
  }
}

function readLabels(r: RuleReader): Record<string, string> | undefined {
  const value = r.raw('labels');
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) return r.issue('labels', `must be an object of strings, not ${describe(value)}`);
  const keys = Object.keys(value);
  if (keys.length > MAX_LABELS)
    return r.issue('labels', `may have at most ${MAX_LABELS} entries, not ${keys.length}`);
  const out: [string, string][] = [];
  let ok = true;
  for (const key of keys) {
    const problem = labelKeyProblem(key);
    const path = `labels.${key.slice(0, 100)}`;
    if (problem) {
      ok = r.issue(path, problem) ?? false;
      continue;
    }
    if (key === 'alertname' || key === 'severity') {
      ok =
        r.issue(path, `is set by the rule (${key === 'alertname' ? 'its name' : 'the severity field'})`) ??
        false;
      continue;
    }
    const labelValue = value[key];
    if (typeof labelValue !== 'string') {
      ok = r.issue(path, `must be a string, not ${describe(labelValue)}`) ?? false;
      continue;
    }
    const bytes = new TextEncoder().encode(labelValue).length;
    if (bytes === 0 || bytes > MAX_LABEL_VALUE_BYTES) {
      ok = r.issue(path, `must have 1–${MAX_LABEL_VALUE_BYTES} bytes, not ${bytes}`) ?? false;
      continue;
    }
    out.push([key, labelValue]);
  }
  return ok ? Object.fromEntries(out) : undefined;
}

function readAnnotations(r: RuleReader): Record<string, string> | undefined {
  const value = r.raw('annotations');
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) return r.issue('annotations', `must be an object of strings, not ${describe(value)}`);
  const keys = Object.keys(value);
  if (keys.length > MAX_ANNOTATIONS) {
    return r.issue('annotations', `may have at most ${MAX_ANNOTATIONS} entries, not ${keys.length}`);
  }
  const out: [string, string][] = [];
  let ok = true;
  for (const key of keys) {
    const problem = labelKeyProblem(key);
    const path = `annotations.${key.slice(0, 100)}`;
    if (problem) {
      ok = r.issue(path, problem) ?? false;
      continue;
    }
    const text = value[key];
    if (typeof text !== 'string') {
      ok = r.issue(path, `must be a string, not ${describe(text)}`) ?? false;
      continue;
    }
    if (text.length > MAX_ANNOTATION_LENGTH) {
      ok = r.issue(path, `must have at most ${MAX_ANNOTATION_LENGTH} characters`) ?? false;
      continue;
    }
    const templateError = templateProblem(text);
    if (templateError) {
      ok = r.issue(path, `is not a valid template: ${templateError}`) ?? false;
      continue;
    }
    out.push([key, text]);
  }
  return ok ? Object.fromEntries(out) : undefined;
}

function labelKeyProblem(key: string): string | undefined {
  if (key.length === 0 || key.length > MAX_LABEL_KEY_LENGTH || !LABEL_KEY_PATTERN.test(key)) {
    return `key must match [a-zA-Z_][a-zA-Z0-9_]* (at most ${MAX_LABEL_KEY_LENGTH} characters), not ${preview(key)}`;
  }
  if (key.startsWith(RESERVED_LABEL_PREFIX))
    return `key must not start with "${RESERVED_LABEL_PREFIX}" (reserved)`;
  return undefined;
}

/** The allowed field closest to a typo (edit distance ≤ 2), if any. */
function nearest(key: string, allowed: readonly string[]): string | undefined {
  if (key.length > 40) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const distance = editDistance(key.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

// ---- rule files --------------------------------------------------------------------------------

/**
 * Validates a parsed GitOps rule file, `{"rules": [ … ]}` (lib/rule-file.ts reads the JSON or YAML
 * text). Rule names must be unique within the file. Every problem in every rule is reported at
 * once, with paths like `rules[2].op`.
 */
export function parseRuleDocument(document: unknown): AlertRule[] {
  if (!isRecord(document)) {
    throw new ValidationError('A rule file must be an object with a "rules" list', [
      { path: '', message: `must be an object with a "rules" list, not ${describe(document)}` },
    ]);
  }
  const unknown = Object.keys(document).filter((key) => key !== 'rules');
  const issues: Issue[] = unknown.map((key) => ({
    path: key.slice(0, 100),
    message: 'is not a field of a rule file (expected only "rules")',
  }));
  const list = Object.hasOwn(document, 'rules') ? document.rules : undefined;
  if (!Array.isArray(list)) {
    issues.push({ path: 'rules', message: `must be a list of rules, not ${describe(list)}` });
    throw new ValidationError('Invalid rule file: "rules" must be a list of rules', issues);
  }
  if (list.length > MAX_RULES_PER_FILE) {
    throw new ValidationError(
      `A rule file may hold at most ${MAX_RULES_PER_FILE} rules, not ${list.length}`,
      [{ path: 'rules', message: `may hold at most ${MAX_RULES_PER_FILE} rules` }],
    );
  }
  const rules: AlertRule[] = [];
  const seen = new Map<string, number>();
  for (const [index, item] of list.entries()) {
    const { rule, issues: found } = readRule(item, `rules[${index}].`);
    issues.push(...found);
    if (!rule) continue;
    const earlier = seen.get(rule.name);
    if (earlier !== undefined) {
      issues.push({ path: `rules[${index}].name`, message: `duplicates the name of rules[${earlier}]` });
      continue;
    }
    seen.set(rule.name, index);
    rules.push(rule);
  }
  if (issues.length > 0) {
    const first = issues[0] as Issue;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    throw new ValidationError(`Invalid rule file: ${first.path} ${first.message}${more}`, issues);
  }
  return rules;
}
