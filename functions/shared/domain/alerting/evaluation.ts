/**
 * Streaming alert evaluation: one small state machine per (rule, series), advanced by the
 * datapoints ingest stores ({@link evaluateOnPoints}) and by a scheduled sweep
 * ({@link evaluateOnSchedule}, {@link evaluateAbsentSelector}). Pure: time arrives as arguments,
 * and state goes in and comes out as plain JSON-serializable data sized for one DynamoDB item.
 *
 * Phases, as in Prometheus: `inactive → pending → firing → inactive`.
 * - A datapoint where the rule's condition holds makes an inactive series `pending` (from the
 *   datapoint's timestamp). It fires when the condition has held for `for`: at the first datapoint
 *   at least `for` after it went pending, or on the schedule (see below). `for: 0` fires at once.
 * - A datapoint where the condition does not hold returns a pending series to `inactive` silently.
 * - A firing series resolves once the condition has not held for `keep_firing_for` (0: at the first
 *   datapoint where it does not hold).
 * - Only `firing` and `resolved` are events ({@link AlertTransition}); `pending` is state only.
 *
 * Clocks: on ingest the machine runs on the datapoints' own timestamps (so a buffered batch
 * replays exactly as it happened); on the schedule it runs on `now`.
 *
 * Staleness: a datapoint's verdict holds until the next datapoint or until the series goes stale,
 * {@link staleAfterMs} = max(5 min, 2 × `for`) after its last datapoint. On the schedule, a pending
 * series whose condition still holds fires once `for` has passed (if not yet stale); a stale pending
 * series returns to inactive; a firing series whose data stopped while breaching resolves at
 * last datapoint + staleness + `keep_firing_for`; one whose last datapoint no longer breached
 * resolves once `keep_firing_for` has passed since its last breach.
 *
 * Absence (`kind: absence`): ingest only records that the series is alive. The schedule fires the
 * alert once the series has been silent for `for` (from its last datapoint, or from when the state
 * was created if it never sent one). The silence ends with the next datapoint; the alert then
 * resolves after `keep_firing_for`. {@link evaluateAbsentSelector} does the same for the rule as a
 * whole (Prometheus's `absent_over_time`): silent when no series matching the matchers sent a
 * datapoint for `for`, alerting with the labels of the equality matchers.
 *
 * Out-of-order datapoints (a timestamp not after the state's last datapoint, or a duplicate
 * timestamp within a batch) are ignored, so the outcome never depends on arrival order.
 *
 * Concurrency contract: every change increments `version`. The adapter writes the returned state
 * with a condition on the version it read (`attribute_not_exists` when it read none), and publishes
 * the transitions only after that write succeeds. On a conditional-check failure it re-reads the
 * state and evaluates the same datapoints again: the datapoints the winner already applied are then
 * out of order and ignored, so two evaluators cannot both fire (or resolve) the same alert. When
 * `changed` is false there is nothing to write.
 */
import { MAX_TIMESTAMP_FUTURE_MS } from '../ingest/limits';
import { fingerprint } from './fingerprint';
import {
  type AlertRule,
  type AnomalyDirection,
  absenceLabels,
  compare,
  type EwmaAnomalyRule,
  type MOfNRule,
  type RateOfChangeRule,
  type StddevAnomalyRule,
} from './rules';
import { renderTemplate } from './template';

/** The state layout's version, for migrations of stored items. */
export const STATE_SCHEMA = 1;
/** The shortest staleness horizon. */
export const MIN_STALENESS_MS = 5 * 60 * 1000;
/** How many samples a windowed `rate_of_change` keeps: the window is sampled at window/32 spacing. */
export const RATE_WINDOW_SAMPLES = 32;

/** One datapoint of one series; `timestamp` is epoch milliseconds. */
export interface Sample {
  readonly timestamp: number;
  readonly value: number;
}

export type AlertPhase = 'inactive' | 'pending' | 'firing';

/** What each rule kind remembers between datapoints. Bounded: at most ~70 numbers or a 100-character string. */
export type KindMemory =
  | { readonly kind: 'none' }
  /** The last `n` verdicts, oldest first: `'1'` breached, `'0'` did not. */
  | { readonly kind: 'm_of_n'; readonly hits: string }
  /** Consecutive mode: the previous datapoint. Window mode: samples within the window, oldest first. */
  | {
      readonly kind: 'rate';
      readonly lastAt?: number;
      readonly lastValue?: number;
      readonly times: readonly number[];
      readonly values: readonly number[];
    }
  /** The previous `window_points` values, oldest first. */
  | { readonly kind: 'stddev'; readonly values: readonly number[] }
  /** Exponentially weighted mean and variance; `seen` counts datapoints up to `min_points`. */
  | { readonly kind: 'ewma'; readonly mean: number; readonly variance: number; readonly seen: number };

/** The alert an evaluator fired and has not resolved: kept so the resolution matches it exactly. */
export interface ActiveAlert {
  readonly fingerprint: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Epoch ms. */
  readonly startsAt: number;
}

/**
 * The state of one rule on one series (`scope: 'series'`) or of an absence rule's whole selector
 * (`scope: 'selector'`). Plain JSON; every time is epoch ms.
 */
export interface SeriesAlertState {
  readonly schema: typeof STATE_SCHEMA;
  /** Incremented on every change: the optimistic-concurrency token. */
  readonly version: number;
  readonly rule: string;
  /** The rule's `digest` when the memory was built; a different digest resets the memory. */
  readonly digest: string;
  readonly scope: 'series' | 'selector';
  /** The series labels (for a selector state: the absence labels). */
  readonly labels: Readonly<Record<string, string>>;
  readonly phase: AlertPhase;
  readonly createdAt: number;
  /** `now` of the last change. */
  readonly updatedAt: number;
  /** Timestamp of the newest datapoint applied. */
  readonly lastSeenAt?: number;
  /** The evaluated value at the last datapoint (the point's value, or the rate), or the silence in seconds. */
  readonly lastValue?: number;
  /** Whether the condition held at the last datapoint. */
  readonly holding: boolean;
  /** When the series went pending (Prometheus's ActiveAt). */
  readonly pendingSince?: number;
  /** The last time the condition was seen to hold. */
  readonly lastBreachAt?: number;
  readonly active?: ActiveAlert;
  readonly memory: KindMemory;
}

/**
 * A firing or resolution: exactly the `detail` of the EventBridge events `Alert Firing` and
 * `Alert Resolved` (source `pulseboard.alerts`).
 */
export interface AlertTransition {
  /** Alertmanager's word for it, so the event detail is the dispatcher's input as it is. */
  readonly status: 'firing' | 'resolved';
  /** Alertmanager's fingerprint of `labels`. */
  readonly fingerprint: string;
  readonly rule: string;
  /** Series labels + `alertname` + `severity` + the rule's labels (which win). */
  readonly labels: Readonly<Record<string, string>>;
  /** The rule's annotations, rendered. */
  readonly annotations: Readonly<Record<string, string>>;
  /** The evaluated value (see {@link SeriesAlertState.lastValue}); absent when unknown. */
  readonly value?: number;
  /** ISO 8601: when the alert started firing. */
  readonly startsAt: string;
  /** ISO 8601, on resolutions only. */
  readonly endsAt?: string;
  /** Where the alert came from (alerts posted to the Alertmanager API carry Prometheus's link). */
  readonly generatorURL?: string;
}

export interface EvaluationResult {
  readonly state: SeriesAlertState;
  readonly transitions: readonly AlertTransition[];
  /** Whether `state` differs from the input (and so must be written, with the version condition). */
  readonly changed: boolean;
}

/** How long after its last datapoint a series counts as stale: max(5 min, 2 × `for`). */
export function staleAfterMs(rule: AlertRule): number {
  return Math.max(MIN_STALENESS_MS, 2 * rule.forMs);
}

/** The labels of a rule's alert on a series: series labels, then `alertname` and `severity`, then the rule's labels. */
export function alertLabels(
  rule: AlertRule,
  seriesLabels: Readonly<Record<string, string>>,
): Record<string, string> {
  return { ...seriesLabels, alertname: rule.name, severity: rule.severity, ...rule.labels };
}

/** A fresh, inactive state for a rule on a series. */
export function initialState(
  rule: AlertRule,
  labels: Readonly<Record<string, string>>,
  now: number,
  scope: 'series' | 'selector' = 'series',
): SeriesAlertState {
  return {
    schema: STATE_SCHEMA,
    version: 0,
    rule: rule.name,
    digest: rule.digest,
    scope,
    labels: { ...labels },
    phase: 'inactive',
    createdAt: now,
    updatedAt: now,
    holding: false,
    memory: emptyMemory(rule),
  };
}

/**
 * Applies a series' new datapoints (any order; those not after the state's last datapoint are
 * ignored) to its state. `labels` are the series labels; `state` is `undefined` for a series the
 * rule has not seen.
 */
export function evaluateOnPoints(
  rule: AlertRule,
  labels: Readonly<Record<string, string>>,
  state: SeriesAlertState | undefined,
  points: readonly Sample[],
  now: number,
): EvaluationResult {
  const run = new Run(rule, state ?? initialState(rule, labels, now), now, state === undefined);
  const accepted = points
    .filter(
      (p) =>
        Number.isFinite(p.timestamp) &&
        Number.isFinite(p.value) &&
        p.timestamp <= now + MAX_TIMESTAMP_FUTURE_MS,
    )
    .map((p, index) => ({ p, index }))
    .sort((a, b) => a.p.timestamp - b.p.timestamp || a.index - b.index);
  for (const { p } of accepted) {
    if (run.s.lastSeenAt !== undefined && p.timestamp <= run.s.lastSeenAt) continue;
    run.point(p.timestamp, p.value);
  }
  return run.result();
}

/**
 * The scheduled sweep for one series state: fires absence alerts, fires pending alerts whose
 * condition has held for `for`, and resolves alerts whose data stopped or whose `keep_firing_for`
 * ran out (see the module comment for the exact rules).
 */
export function evaluateOnSchedule(rule: AlertRule, state: SeriesAlertState, now: number): EvaluationResult {
  const run = new Run(rule, state, now, false);
  run.schedule();
  return run.result();
}

/**
 * The scheduled check of an absence rule as a whole: `lastSeenAt` is the newest datapoint
 * timestamp of any series matching the rule (`undefined` when none exists). Fires one alert with
 * {@link absenceLabels} when that is at least `for` ago, or, with no series at all, when `for` has
 * passed since this state was created. Other rule kinds never change.
 */
export function evaluateAbsentSelector(
  rule: AlertRule,
  state: SeriesAlertState | undefined,
  lastSeenAt: number | undefined,
  now: number,
): EvaluationResult {
  const run = new Run(
    rule,
    state ?? initialState(rule, absenceLabels(rule), now, 'selector'),
    now,
    state === undefined,
  );
  if (rule.kind !== 'absence') return run.result();
  if (lastSeenAt !== undefined && (run.s.lastSeenAt === undefined || lastSeenAt > run.s.lastSeenAt)) {
    run.dataArrived(Math.min(lastSeenAt, now));
  }
  run.schedule();
  return run.result();
}

// ---- the machine -------------------------------------------------------------------------------

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

class Run {
  readonly s: Mutable<SeriesAlertState>;
  private readonly transitions: AlertTransition[] = [];
  private changed: boolean;

  constructor(
    private readonly rule: AlertRule,
    input: SeriesAlertState,
    private readonly now: number,
    created: boolean,
  ) {
    if (input.rule !== rule.name) {
      throw new Error(`Alert state of rule "${input.rule}" evaluated with rule "${rule.name}"`);
    }
    this.s = { ...input };
    this.changed = created;
    if (input.digest !== rule.digest) {
      this.s.digest = rule.digest;
      this.s.memory = emptyMemory(rule);
      this.changed = true;
    }
  }

  point(t: number, v: number): void {
    this.changed = true;
    if (this.rule.kind === 'absence') {
      this.dataArrived(t);
      if (this.s.phase === 'firing' && t - (this.s.lastBreachAt ?? t) >= this.rule.keepFiringForMs)
        this.resolve(t);
      return;
    }
    const { holds, value } = condition(this.rule, this.s, t, v);
    this.s.lastSeenAt = t;
    this.s.holding = holds;
    if (value !== undefined) this.s.lastValue = value;
    if (holds) {
      this.s.lastBreachAt = t;
      if (this.s.phase === 'inactive') {
        this.s.phase = 'pending';
        this.s.pendingSince = t;
      }
      if (this.s.phase === 'pending' && t - (this.s.pendingSince ?? t) >= this.rule.forMs) this.fire(t);
      return;
    }
    if (this.s.phase === 'pending') {
      this.s.phase = 'inactive';
      this.s.pendingSince = undefined;
    } else if (this.s.phase === 'firing' && t - (this.s.lastBreachAt ?? t) >= this.rule.keepFiringForMs) {
      this.resolve(t);
    }
  }

  /** Absence bookkeeping for a datapoint at `t`: a silence that reached `for` lasted until `t`. */
  dataArrived(t: number): void {
    this.changed = true;
    const previous = this.s.lastSeenAt ?? this.s.createdAt;
    if (this.s.phase === 'firing' && t - previous >= this.rule.forMs) {
      this.s.lastBreachAt = Math.max(this.s.lastBreachAt ?? t, t);
    }
    this.s.lastSeenAt = t;
    this.s.holding = false;
  }

  schedule(): void {
    const { rule, now } = this;
    const s = this.s;
    if (rule.kind === 'absence') {
      const silentMs = now - (s.lastSeenAt ?? s.createdAt);
      if (silentMs >= rule.forMs) {
        if (s.phase === 'firing') return;
        this.changed = true;
        s.holding = true;
        s.lastBreachAt = now;
        s.lastValue = silentMs / 1000;
        this.fire(now);
      } else if (s.phase === 'firing' && now - (s.lastBreachAt ?? now) >= rule.keepFiringForMs) {
        this.resolve(now);
      }
      return;
    }
    if (s.lastSeenAt === undefined) return;
    const staleAt = s.lastSeenAt + staleAfterMs(rule);
    const stale = now >= staleAt;
    if (s.phase === 'pending') {
      if (stale) {
        this.changed = true;
        s.phase = 'inactive';
        s.pendingSince = undefined;
      } else if (s.holding && now - (s.pendingSince ?? now) >= rule.forMs) {
        this.fire(now);
      }
    } else if (s.phase === 'firing') {
      const resolveAt = s.holding
        ? staleAt + rule.keepFiringForMs
        : (s.lastBreachAt ?? 0) + rule.keepFiringForMs;
      if (now >= resolveAt) this.resolve(now);
    }
  }

  private fire(at: number): void {
    const labels = alertLabels(this.rule, this.s.labels);
    const active: ActiveAlert = { fingerprint: fingerprint(labels), labels, startsAt: at };
    this.changed = true;
    this.s.phase = 'firing';
    this.s.active = active;
    this.transitions.push(this.transition('firing', active));
  }

  private resolve(at: number): void {
    const active = this.s.active ?? {
      fingerprint: fingerprint(alertLabels(this.rule, this.s.labels)),
      labels: alertLabels(this.rule, this.s.labels),
      startsAt: at,
    };
    this.changed = true;
    this.s.phase = 'inactive';
    this.s.pendingSince = undefined;
    this.s.active = undefined;
    this.transitions.push(this.transition('resolved', active, at));
  }

  private transition(status: 'firing' | 'resolved', active: ActiveAlert, endsAt?: number): AlertTransition {
    const value = this.s.lastValue;
    const rule = this.rule;
    const context = {
      labels: active.labels,
      value,
      rule: { name: rule.name, metric: rule.metric, kind: rule.kind, severity: rule.severity },
    };
    const annotations = Object.fromEntries(
      Object.entries(rule.annotations).map(([key, text]) => [key, renderTemplate(text, context)]),
    );
    return {
      status,
      fingerprint: active.fingerprint,
      rule: rule.name,
      labels: active.labels,
      annotations,
      ...(value === undefined ? {} : { value }),
      startsAt: new Date(active.startsAt).toISOString(),
      ...(endsAt === undefined ? {} : { endsAt: new Date(endsAt).toISOString() }),
    };
  }

  result(): EvaluationResult {
    if (!this.changed) return { state: this.s as SeriesAlertState, transitions: [], changed: false };
    const state = withoutUndefined({ ...this.s, version: this.s.version + 1, updatedAt: this.now });
    return { state, transitions: this.transitions, changed: true };
  }
}

/** Drops `undefined` fields, so the state is the same object after a JSON or DynamoDB round trip. */
function withoutUndefined(state: Mutable<SeriesAlertState>): SeriesAlertState {
  for (const key of Object.keys(state) as (keyof SeriesAlertState)[]) {
    if (state[key] === undefined) delete state[key];
  }
  return state;
}

// ---- conditions --------------------------------------------------------------------------------

function emptyMemory(rule: AlertRule): KindMemory {
  switch (rule.kind) {
    case 'm_of_n':
      return { kind: 'm_of_n', hits: '' };
    case 'rate_of_change':
      return { kind: 'rate', times: [], values: [] };
    case 'anomaly':
      return rule.method === 'stddev'
        ? { kind: 'stddev', values: [] }
        : { kind: 'ewma', mean: 0, variance: 0, seen: 0 };
    default:
      return { kind: 'none' };
  }
}

/** Whether the condition holds at this datapoint, and the value it evaluated; updates the memory. */
function condition(
  rule: Exclude<AlertRule, { kind: 'absence' }>,
  s: Mutable<SeriesAlertState>,
  t: number,
  v: number,
): { holds: boolean; value: number | undefined } {
  switch (rule.kind) {
    case 'threshold':
      return { holds: compare(v, rule.op, rule.value), value: v };
    case 'm_of_n':
      return mOfN(rule, s, v);
    case 'rate_of_change':
      return rateOfChange(rule, s, t, v);
    case 'anomaly':
      return rule.method === 'stddev' ? stddev(rule, s, v) : ewma(rule, s, v);
  }
}

function mOfN(rule: MOfNRule, s: Mutable<SeriesAlertState>, v: number): { holds: boolean; value: number } {
  const previous = s.memory.kind === 'm_of_n' ? s.memory.hits : '';
  const hits = (previous + (compare(v, rule.op, rule.value) ? '1' : '0')).slice(-rule.n);
  s.memory = { kind: 'm_of_n', hits };
  let count = 0;
  for (const hit of hits) if (hit === '1') count++;
  return { holds: count >= rule.m, value: v };
}

function rateOfChange(
  rule: RateOfChangeRule,
  s: Mutable<SeriesAlertState>,
  t: number,
  v: number,
): { holds: boolean; value: number | undefined } {
  const memory = s.memory.kind === 'rate' ? s.memory : { kind: 'rate' as const, times: [], values: [] };
  let base: { t: number; v: number } | undefined;
  let times = [...memory.times];
  let values = [...memory.values];
  if (rule.windowMs === 0) {
    if (
      memory.lastAt !== undefined &&
      memory.lastValue !== undefined &&
      t - memory.lastAt <= staleAfterMs(rule)
    ) {
      base = { t: memory.lastAt, v: memory.lastValue };
    }
  } else {
    const from = t - rule.windowMs;
    const keepFrom = times.findIndex((time) => time >= from);
    times = keepFrom === -1 ? [] : times.slice(keepFrom);
    values = keepFrom === -1 ? [] : values.slice(keepFrom);
    if (times.length > 0) base = { t: times[0] as number, v: values[0] as number };
    const newest = times[times.length - 1];
    if (newest === undefined || t - newest >= rule.windowMs / RATE_WINDOW_SAMPLES) {
      times.push(t);
      values.push(v);
    }
    if (times.length > RATE_WINDOW_SAMPLES + 1) {
      times = times.slice(-(RATE_WINDOW_SAMPLES + 1));
      values = values.slice(-(RATE_WINDOW_SAMPLES + 1));
    }
  }
  s.memory = { kind: 'rate', lastAt: t, lastValue: v, times, values };
  if (!base || base.t >= t) return { holds: false, value: undefined };
  const rate = (v - base.v) / ((t - base.t) / 1000);
  if (!Number.isFinite(rate)) return { holds: false, value: undefined };
  return { holds: compare(rate, rule.op, rule.value), value: rate };
}

function stddev(
  rule: StddevAnomalyRule,
  s: Mutable<SeriesAlertState>,
  v: number,
): { holds: boolean; value: number } {
  const window = s.memory.kind === 'stddev' ? s.memory.values : [];
  let holds = false;
  if (window.length >= rule.minPoints) {
    let sum = 0;
    for (const x of window) sum += x;
    const mean = sum / window.length;
    let squares = 0;
    for (const x of window) squares += (x - mean) ** 2;
    holds = deviates(v, mean, Math.sqrt(squares / window.length), rule.k, rule.direction);
  }
  s.memory = { kind: 'stddev', values: [...window, v].slice(-rule.windowPoints) };
  return { holds, value: v };
}

function ewma(
  rule: EwmaAnomalyRule,
  s: Mutable<SeriesAlertState>,
  v: number,
): { holds: boolean; value: number } {
  const memory =
    s.memory.kind === 'ewma' ? s.memory : { kind: 'ewma' as const, mean: 0, variance: 0, seen: 0 };
  const holds =
    memory.seen >= rule.minPoints &&
    deviates(v, memory.mean, Math.sqrt(memory.variance), rule.k, rule.direction);
  let { mean, variance } = memory;
  if (memory.seen === 0) {
    mean = v;
    variance = 0;
  } else {
    // West/Finch incremental EWMA: the variance update uses the deviation before the mean moves.
    const diff = v - mean;
    const increment = rule.alpha * diff;
    mean += increment;
    variance = (1 - rule.alpha) * (variance + diff * increment);
  }
  s.memory = { kind: 'ewma', mean, variance, seen: Math.min(memory.seen + 1, rule.minPoints) };
  return { holds, value: v };
}

/**
 * Whether `v` lies more than `k` standard deviations from `mean` on the watched side. Differences
 * within 1e-9 of the mean's magnitude are rounding noise, so a constant series (sd 0) never fires
 * on itself but fires on any real change.
 */
function deviates(v: number, mean: number, sd: number, k: number, direction: AnomalyDirection): boolean {
  const diff = v - mean;
  if (Math.abs(diff) <= 1e-9 * Math.max(1, Math.abs(mean))) return false;
  const band = k * sd;
  if (diff > band) return direction !== 'below';
  if (-diff > band) return direction !== 'above';
  return false;
}

/**
 * Whether an evaluation's new state must be stored. Every kind but `threshold` carries memory
 * (windows, bands, last-seen times for absence), so it is always stored when it changed. A
 * threshold series that was and stays inactive carries nothing the next datapoint or the schedule
 * needs, so a healthy series costs no write per datapoint.
 */
export function worthStoring(
  rule: AlertRule,
  before: SeriesAlertState | undefined,
  result: EvaluationResult,
): boolean {
  if (result.transitions.length > 0) return true;
  if (!result.changed) return false;
  if (rule.kind !== 'threshold') return true;
  return result.state.phase !== 'inactive' || (before !== undefined && before.phase !== 'inactive');
}
