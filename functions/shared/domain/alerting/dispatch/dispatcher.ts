import { NotFoundError } from '../../../errors';
import type { ParsedAlertEvent } from './alert';
import {
  applyEvent,
  DEFAULT_MAX_ALERTS_PER_GROUP,
  flush,
  type GroupState,
  HISTORY_RETENTION_MS,
  type Notification,
  newGroup,
  pruneHistory,
} from './group';
import {
  acknowledgeIncident,
  appendTimeline,
  type IncidentChange,
  recordNotification,
  resolveIncident,
} from './incident';
import { formatLabelSet, type Labels } from './labels';
import type { Muter } from './mute';
import { groupLabelsFor, matchRoutes, type Route, type RouteSettings } from './route';
import { NO_TIME_INTERVALS, type TimeIntervals } from './time-intervals';

/**
 * The correlator's core: Alertmanager's dispatcher, one aggregation group at a time, with no
 * process and no timers. The AWS layer:
 *
 * 1. routes an event with {@link routeAlert}, giving one {@link GroupTarget} per matching route;
 * 2. for each target loads the group's state (one item, keyed by `groupId`) and calls
 *    {@link handle} with `{ kind: 'alert' }`;
 * 3. writes the returned state if `changed` (conditionally on the `revision` it read; on a
 *    conflict it reloads and calls `handle` again: every input is idempotent), then performs the
 *    effects: publish `notify`, arm `schedule` (a delayed message that calls `handle` with
 *    `{ kind: 'wake' }` at or after `at`), persist and broadcast `incident`, update the
 *    firing-alerts view on `alert_status`, count `alert_dropped`.
 *
 * A wake that comes early, late or twice is harmless: the group flushes only when `now` has
 * reached its `nextFlushAt`, and every flush moves `nextFlushAt` on.
 */

export interface GroupTarget {
  readonly groupId: string;
  readonly groupKey: string;
  readonly routeId: string;
  readonly routeKey: string;
  readonly route: RouteSettings;
  readonly groupLabels: Labels;
}

export type DispatchInput =
  | { readonly kind: 'alert'; readonly target: GroupTarget; readonly event: ParsedAlertEvent }
  | { readonly kind: 'wake' }
  | { readonly kind: 'ack'; readonly incidentId: string; readonly by: string }
  | { readonly kind: 'resolve'; readonly incidentId: string; readonly by: string }
  | {
      readonly kind: 'record_notification';
      readonly incidentId: string;
      readonly notificationId: string;
      readonly messageId: string;
    };

export type Effect =
  | { readonly kind: 'notify'; readonly notification: Notification }
  | { readonly kind: 'schedule'; readonly groupId: string; readonly at: number }
  | { readonly kind: 'incident'; readonly change: IncidentChange }
  | {
      readonly kind: 'alert_status';
      readonly fingerprint: string;
      readonly labels: Labels;
      readonly status: 'firing' | 'resolved';
      /** What the firing-alerts view shows besides the labels (Alertmanager's GET /api/v2/alerts). */
      readonly annotations: Labels;
      readonly startsAt: number;
      readonly endsAt?: number;
      readonly generatorURL: string;
    }
  | {
      readonly kind: 'alert_dropped';
      readonly groupId: string;
      readonly fingerprint: string;
      readonly reason: 'group_full';
    };

export interface DispatchContext {
  readonly now: number;
  /** The current routing tree: a group refreshes its settings from its route when the route still exists. */
  readonly routes: Route;
  readonly muter: Muter;
  /** The routing's `time_intervals`, which routes name; none when omitted. */
  readonly timeIntervals?: TimeIntervals;
  readonly newId: () => string;
  /** Alertmanager's `externalURL`: the dashboard's URL. */
  readonly externalURL: string;
  readonly maxAlertsPerGroup?: number;
  /** Alertmanager's webhook `max_alerts`; 0 (default) sends every alert. */
  readonly maxAlertsPerNotification?: number;
}

export interface DispatchResult {
  /** Undefined only when there was no group and the input did not create one. */
  readonly state: GroupState | undefined;
  /** False when the input changed nothing (a duplicate, a stale event, an early wake): skip the write. */
  readonly changed: boolean;
  readonly effects: readonly Effect[];
}

/**
 * The groups an alert belongs to: one per route it matches ({@link matchRoutes}), grouped by that
 * route's `group_by` labels. `groupKey` is Alertmanager's: `<route key>:<group labels>`, e.g.
 * `{}/{severity="critical"}:{alertname="HighCPU", host="web-1"}`; `groupId` adds the receiver,
 * as Alertmanager's notification log keys entries by both.
 */
export function routeAlert(tree: Route, labels: Labels): GroupTarget[] {
  return matchRoutes(tree, labels).map((route) => {
    const groupLabels = groupLabelsFor(route, labels);
    const groupKey = `${route.key}:${formatLabelSet(groupLabels)}`;
    return {
      groupId: `${groupKey}|${route.receiver}`,
      groupKey,
      routeId: route.id,
      routeKey: route.key,
      route: settingsOf(route),
      groupLabels,
    };
  });
}

/** Handles one input for one group; pure: the same state, input and context give the same result. */
export function handle(
  state: GroupState | undefined,
  input: DispatchInput,
  ctx: DispatchContext,
): DispatchResult {
  const maxAlerts = ctx.maxAlertsPerGroup ?? DEFAULT_MAX_ALERTS_PER_GROUP;
  switch (input.kind) {
    case 'alert':
      return onAlert(state ?? newGroup(input.target), state === undefined, input.event, ctx, maxAlerts);
    case 'wake':
      if (!state || state.nextFlushAt === null || ctx.now < state.nextFlushAt) return unchanged(state);
      return finish(state, refresh(state, ctx.routes), [], ctx, maxAlerts);
    case 'ack':
    case 'resolve':
    case 'record_notification':
      return onIncident(state, input, ctx);
  }
}

function onAlert(
  before: GroupState,
  created: boolean,
  event: ParsedAlertEvent,
  ctx: DispatchContext,
  maxAlerts: number,
): DispatchResult {
  const { now } = ctx;
  let state = refresh(before, ctx.routes);
  const wasIdle = Object.keys(state.alerts).length === 0;
  const applied = applyEvent(state, event, now, maxAlerts);
  const effects: Effect[] = [];
  if (applied.outcome === 'stale' || applied.outcome === 'duplicate') {
    return created ? unchanged(undefined) : unchanged(before);
  }
  state = applied.state;
  if (applied.outcome === 'dropped') {
    effects.push({
      kind: 'alert_dropped',
      groupId: state.groupId,
      fingerprint: event.fingerprint,
      reason: 'group_full',
    });
    return finish(before, state, effects, ctx, maxAlerts);
  }
  if (applied.statusChanged) {
    effects.push({
      kind: 'alert_status',
      fingerprint: event.fingerprint,
      labels: event.labels,
      status: event.status,
      annotations: event.annotations,
      startsAt: event.startsAt,
      ...(event.endsAt === undefined ? {} : { endsAt: event.endsAt }),
      generatorURL: event.generatorURL,
    });
  }
  if (applied.flappingStarted && state.incident && state.incident.status !== 'resolved') {
    const incident = appendTimeline(state.incident, [
      { type: 'flapping_started', at: now, fingerprint: event.fingerprint },
    ]);
    state = { ...state, incident };
    effects.push({ kind: 'incident', change: { change: 'updated', incident } });
  }
  const inserted = state.alerts[event.fingerprint] !== undefined;
  if (wasIdle && inserted) {
    // A group with no alerts is a new group, as Alertmanager creates a new one: wait group_wait.
    state = { ...state, hasFlushed: false, nextFlushAt: now + state.route.groupWaitMs, expiresAt: null };
  }
  // Alertmanager's insert(): an alert that started more than group_wait ago flushes a group that never flushed at once.
  if (inserted && !state.hasFlushed && event.startsAt + state.route.groupWaitMs < now) {
    state = { ...state, nextFlushAt: now };
  }
  if (!inserted && wasIdle && state.expiresAt === null)
    state = { ...state, expiresAt: now + HISTORY_RETENTION_MS };
  return finish(before, state, effects, ctx, maxAlerts);
}

/** Flushes when due, prunes, bumps the revision and schedules the next wake if it moved. */
function finish(
  before: GroupState,
  working: GroupState,
  effects: Effect[],
  ctx: DispatchContext,
  maxAlerts: number,
): DispatchResult {
  let state = working;
  if (state.nextFlushAt !== null && state.nextFlushAt <= ctx.now) {
    const result = flush(state, {
      now: ctx.now,
      muter: ctx.muter,
      timeIntervals: ctx.timeIntervals ?? NO_TIME_INTERVALS,
      newId: ctx.newId,
      externalURL: ctx.externalURL,
      maxAlertsPerNotification: ctx.maxAlertsPerNotification ?? 0,
    });
    state = result.state;
    if (result.notification) effects.push({ kind: 'notify', notification: result.notification });
    if (result.incident) effects.push({ kind: 'incident', change: result.incident });
  }
  state = pruneHistory(state, ctx.now, maxAlerts);
  const changed = JSON.stringify(state) !== JSON.stringify(before) || before.revision === 0;
  if (!changed) return { state: before, changed: false, effects };
  state = { ...state, revision: before.revision + 1 };
  const priorWake = before.revision === 0 ? null : before.nextFlushAt;
  if (state.nextFlushAt !== null && state.nextFlushAt !== priorWake) {
    effects.push({ kind: 'schedule', groupId: state.groupId, at: state.nextFlushAt });
  }
  return { state, changed: true, effects: collapseIncidentEffects(effects) };
}

/** One incident effect per call, the last snapshot, with the most significant change. */
function collapseIncidentEffects(effects: Effect[]): Effect[] {
  const changes = effects.filter((e): e is Extract<Effect, { kind: 'incident' }> => e.kind === 'incident');
  if (changes.length <= 1) return effects;
  const rank = { updated: 0, acknowledged: 1, resolved: 2, opened: 3 } as const;
  const last = changes[changes.length - 1] as Extract<Effect, { kind: 'incident' }>;
  const change = changes.reduce(
    (best, e) => (rank[e.change.change] > rank[best] ? e.change.change : best),
    'updated' as IncidentChange['change'],
  );
  return [
    ...effects.filter((e) => e.kind !== 'incident'),
    { kind: 'incident', change: { change, incident: last.change.incident } },
  ];
}

function onIncident(
  state: GroupState | undefined,
  input: Extract<DispatchInput, { kind: 'ack' | 'resolve' | 'record_notification' }>,
  ctx: DispatchContext,
): DispatchResult {
  const current = state?.incident;
  if (!state || !current || current.id !== input.incidentId) {
    throw new NotFoundError(`Incident ${input.incidentId} is not this group's current incident`);
  }
  const incident =
    input.kind === 'ack'
      ? acknowledgeIncident(current, input.by, ctx.now)
      : input.kind === 'resolve'
        ? resolveIncident(current, input.by, ctx.now)
        : recordNotification(current, input.notificationId, input.messageId);
  if (incident === current) return unchanged(state);
  const change: IncidentChange['change'] =
    input.kind === 'ack' ? 'acknowledged' : input.kind === 'resolve' ? 'resolved' : 'updated';
  return {
    state: { ...state, incident, revision: state.revision + 1 },
    changed: true,
    effects: [{ kind: 'incident', change: { change, incident } }],
  };
}

/** Takes the settings of the group's route from the current tree, if the route is still there. */
function refresh(state: GroupState, tree: Route): GroupState {
  const route = findByKey(tree, state.routeKey, state.route.receiver);
  if (!route) return state;
  const settings = settingsOf(route);
  return JSON.stringify(settings) === JSON.stringify(state.route) ? state : { ...state, route: settings };
}

function findByKey(route: Route, key: string, receiver: string): Route | undefined {
  if (route.key === key && route.receiver === receiver) return route;
  if (!key.startsWith(route.key)) return undefined;
  for (const child of route.routes) {
    const found = findByKey(child, key, receiver);
    if (found) return found;
  }
  return undefined;
}

/** The settings a group keeps; interval names only when there are some, so other groups' stored form is unchanged. */
function settingsOf(route: Route): RouteSettings {
  return {
    receiver: route.receiver,
    groupBy: route.groupBy,
    groupWaitMs: route.groupWaitMs,
    groupIntervalMs: route.groupIntervalMs,
    repeatIntervalMs: route.repeatIntervalMs,
    flap: route.flap,
    ...(route.muteTimeIntervals.length > 0 ? { muteTimeIntervals: route.muteTimeIntervals } : {}),
    ...(route.activeTimeIntervals.length > 0 ? { activeTimeIntervals: route.activeTimeIntervals } : {}),
  };
}

function unchanged(state: GroupState | undefined): DispatchResult {
  return { state, changed: false, effects: [] };
}
