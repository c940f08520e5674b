import { forEachBounded } from '../concurrency';
import {
  type AlertTransition,
  type EvaluationResult,
  evaluateAbsentSelector,
  evaluateOnPoints,
  evaluateOnSchedule,
  type Sample,
  type SeriesAlertState,
  worthStoring,
} from '../domain/alerting/evaluation';
import { type AlertRule, ruleSelects } from '../domain/alerting/rules';
import type { AlertEventPublisher, AlertStateStore, StoredAlertState } from '../domain/alerting/stores';
import type { Datapoint } from '../domain/metrics';
import { seriesKey } from '../domain/metrics';
import { ConflictError } from '../errors';
import type { Clock } from '../ports';

/**
 * Runs the pure evaluation machine (domain/alerting/evaluation.ts) against stored state:
 * - on ingest, over the datapoints just stored ({@link evaluateDatapoints});
 * - on the schedule, over every stored state of every rule ({@link sweepRules});
 * - when a rule is deleted, resolving what it had firing ({@link retireRule}).
 *
 * Each state is written conditionally on the version it was read at; a lost race re-reads and
 * evaluates again (datapoints the winner applied are then ignored as old), so two concurrent
 * invocations never both fire one alert. Transitions ride in the state item's outbox, are
 * published to the bus after the write, and the outbox is cleared after the publish: a crash in
 * between leaves them for the next sweep, and the correlator ignores a duplicate.
 */
export interface EvaluationDeps {
  readonly states: AlertStateStore;
  readonly events: AlertEventPublisher;
  readonly clock: Clock;
  /** Series evaluated at once. */
  readonly concurrency?: number;
}

export interface EvaluationOutcome {
  /** Every transition published, in order. */
  readonly transitions: readonly AlertTransition[];
  readonly eventIds: readonly string[];
}

/** The state key of an absence rule's rule-wide (selector) state; series keys always start with `{`. */
export const SELECTOR_KEY = '~selector';
/** Conditional-write retries before giving up (the caller's retry takes over). */
const MAX_ATTEMPTS = 6;
const DEFAULT_CONCURRENCY = 16;

/** The key of one series' state within its rule: the labels in canonical order (the metric is the rule's). */
export function stateKey(labels: Readonly<Record<string, string>>): string {
  return seriesKey('', labels);
}

interface Written {
  readonly rule: string;
  readonly key: string;
  readonly version: number;
  readonly outbox: readonly AlertTransition[];
}

/** Evaluates stored datapoints against every rule whose selector matches their series. */
export async function evaluateDatapoints(
  rules: readonly AlertRule[],
  points: readonly Datapoint[],
  deps: EvaluationDeps,
): Promise<EvaluationOutcome> {
  const now = deps.clock();
  const written: Written[] = [];
  for (const rule of rules) {
    const bySeries = new Map<string, { labels: Readonly<Record<string, string>>; samples: Sample[] }>();
    for (const point of points) {
      if (point.name !== rule.metric || !ruleSelects(rule, point.name, point.labels)) continue;
      const key = stateKey(point.labels);
      const series = bySeries.get(key) ?? { labels: point.labels, samples: [] };
      series.samples.push({ timestamp: point.timestamp, value: point.value });
      bySeries.set(key, series);
    }
    if (bySeries.size === 0) continue;
    const stored = await deps.states.getMany(rule.name, [...bySeries.keys()]);
    await forEachBounded(bySeries, deps.concurrency ?? DEFAULT_CONCURRENCY, async ([key, series]) => {
      const result = await advance(
        rule,
        key,
        (state) => evaluateOnPoints(rule, series.labels, state, series.samples, now),
        deps.states,
        stored.get(key),
      );
      if (result) written.push(result);
    });
  }
  return publish(written, deps);
}

/**
 * The scheduled pass over one rule set: fires pending alerts whose `for` has passed and absence
 * alerts, resolves alerts whose data stopped, and republishes outboxes a crash left behind.
 */
export async function sweepRules(
  rules: readonly AlertRule[],
  deps: EvaluationDeps,
): Promise<EvaluationOutcome> {
  const now = deps.clock();
  const written: Written[] = [];
  for (const rule of rules) {
    const stored = await deps.states.list(rule.name);
    let lastSeenAt: number | undefined;
    let selector: StoredAlertState | undefined;
    const series = stored.filter((entry) => {
      if (entry.key === SELECTOR_KEY) {
        selector = entry;
        return false;
      }
      const seen = entry.state.lastSeenAt;
      if (seen !== undefined && (lastSeenAt === undefined || seen > lastSeenAt)) lastSeenAt = seen;
      return true;
    });
    const advanced = new Set<string>();
    await forEachBounded(series, deps.concurrency ?? DEFAULT_CONCURRENCY, async (entry) => {
      const result = await advance(
        rule,
        entry.key,
        (state) => (state ? evaluateOnSchedule(rule, state, now) : undefined),
        deps.states,
        entry,
      );
      if (result) {
        written.push(result);
        advanced.add(entry.key);
      }
    });
    if (rule.kind === 'absence') {
      const result = await advance(
        rule,
        SELECTOR_KEY,
        (state) => evaluateAbsentSelector(rule, state, lastSeenAt, now),
        deps.states,
        selector,
      );
      if (result) {
        written.push(result);
        advanced.add(SELECTOR_KEY);
      }
    }
    for (const entry of stored) {
      if (entry.outbox.length > 0 && !advanced.has(entry.key)) {
        written.push({ rule: rule.name, key: entry.key, version: entry.state.version, outbox: entry.outbox });
      }
    }
  }
  return publish(written, deps);
}

/**
 * Resolves every alert a deleted rule had firing and forgets its states. Resolutions carry the
 * alert's labels and start time; the rule's annotations went with the rule.
 */
export async function retireRule(name: string, deps: EvaluationDeps): Promise<EvaluationOutcome> {
  const now = deps.clock();
  const stored = await deps.states.list(name);
  const resolutions: AlertTransition[] = stored.flatMap(({ state, outbox }) => {
    const active = state.active;
    if (!active) return [...outbox];
    return [
      ...outbox,
      {
        status: 'resolved' as const,
        fingerprint: active.fingerprint,
        rule: name,
        labels: active.labels,
        annotations: {},
        startsAt: new Date(active.startsAt).toISOString(),
        endsAt: new Date(now).toISOString(),
      },
    ];
  });
  const eventIds = resolutions.length > 0 ? await deps.events.publish(resolutions) : [];
  await forEachBounded(stored, deps.concurrency ?? DEFAULT_CONCURRENCY, (entry) =>
    deps.states.delete(name, entry.key),
  );
  return { transitions: resolutions, eventIds };
}

/** Reads (or takes the preloaded state), evaluates, and writes conditionally until a write wins. */
async function advance(
  rule: AlertRule,
  key: string,
  evaluate: (state: SeriesAlertState | undefined) => EvaluationResult | undefined,
  states: AlertStateStore,
  preloaded: StoredAlertState | undefined,
): Promise<Written | undefined> {
  let current = preloaded;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0) current = (await states.getMany(rule.name, [key])).get(key);
    const result = evaluate(current?.state);
    if (!result || !worthStoring(rule, current?.state, result)) return undefined;
    const outbox = [...(current?.outbox ?? []), ...result.transitions];
    if (await states.put(key, { state: result.state, outbox }, current?.state.version)) {
      return outbox.length > 0 ? { rule: rule.name, key, version: result.state.version, outbox } : undefined;
    }
  }
  throw new ConflictError(`Alert state ${rule.name} ${key} kept changing under ${MAX_ATTEMPTS} attempts`);
}

async function publish(written: readonly Written[], deps: EvaluationDeps): Promise<EvaluationOutcome> {
  const transitions = written.flatMap((w) => w.outbox);
  if (transitions.length === 0) return { transitions: [], eventIds: [] };
  const eventIds = await deps.events.publish(transitions);
  await forEachBounded(written, deps.concurrency ?? DEFAULT_CONCURRENCY, (w) =>
    deps.states.clearOutbox(w.rule, w.key, w.version),
  );
  return { transitions, eventIds };
}
