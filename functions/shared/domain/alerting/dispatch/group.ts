import { alertEventTime, type ParsedAlertEvent } from './alert';
import {
  appendTimeline,
  type Incident,
  type IncidentChange,
  openIncident,
  resolveIncident,
  type TimelineEntry,
} from './incident';
import type { Labels } from './labels';
import type { Muter } from './mute';
import type { FlapSettings, RouteSettings } from './route';
import { type TimeIntervals, timeMuted } from './time-intervals';
import {
  buildWebhookMessage,
  type NotificationAttributes,
  type NotifiedAlert,
  notificationAttributes,
  type WebhookMessage,
} from './webhook';

/**
 * One aggregation group's state: everything the dispatcher knows about (route, group labels),
 * stored by the AWS layer as one item, written conditionally on `revision`. Plain JSON.
 */
export interface GroupState {
  readonly schema: 1;
  /** Unique storage id: `${groupKey}|${receiver}`, as Alertmanager keys its notification log. */
  readonly groupId: string;
  /** Alertmanager's group key, `{}/{severity="critical"}:{alertname="HighCPU", host="web-1"}`. */
  readonly groupKey: string;
  /**
   * The route's `Key()` and the settings it had when last seen; refreshed from the tree on every
   * input. Stored before time intervals existed, `route` lacks their names: it has none.
   */
  readonly routeKey: string;
  readonly route: RouteSettings;
  readonly groupLabels: Labels;
  /** Incremented by every change; the AWS layer's conditional-write version. */
  readonly revision: number;
  /** The alerts of the group by fingerprint, at most `maxAlertsPerGroup`. */
  readonly alerts: Readonly<Record<string, StoredAlert>>;
  /** Per fingerprint: the last event applied and the flap record; outlives the alert by {@link HISTORY_RETENTION_MS}. */
  readonly history: Readonly<Record<string, AlertHistory>>;
  readonly hasFlushed: boolean;
  /** When the next flush is due, or null when the group holds no alerts. */
  readonly nextFlushAt: number | null;
  /** Alertmanager's notification log entry for this group and receiver: what the last notification said. */
  readonly lastNotification: NotificationLogEntry | null;
  /** The current incident, or the last one (resolved) until a new one opens. */
  readonly incident: Incident | null;
  /** New alerts refused because the group was full, since the group was created. */
  readonly droppedAlerts: number;
  /** When the AWS layer may delete the item (DynamoDB TTL, epoch ms): set while the group is empty. */
  readonly expiresAt: number | null;
}

/** An alert as the group holds it: the event, plus what its last notification said. */
export interface StoredAlert extends ParsedAlertEvent {
  /** What the last notification that included this alert said about it. */
  readonly notified?: { readonly status: 'firing' | 'resolved'; readonly endsAt?: number };
}

export interface AlertHistory {
  readonly status: 'firing' | 'resolved';
  /** The instant of the last applied event ({@link alertEventTime}): older events are ignored. */
  readonly at: number;
  /** Instants of status changes within the flap window, oldest first. */
  readonly transitions: readonly number[];
  readonly lastChangeAt: number;
  readonly flappingSince?: number;
}

export interface NotificationLogEntry {
  readonly firing: readonly string[];
  readonly resolved: readonly string[];
  readonly at: number;
}

/** A notification for the AWS layer to publish (SNS), then report back with `recordNotification`. */
export interface Notification {
  /** Stable across retries of the publish; use it as the deduplication id. */
  readonly id: string;
  readonly groupId: string;
  readonly receiver: string;
  readonly incidentId: string | null;
  readonly message: WebhookMessage;
  readonly attributes: NotificationAttributes;
}

/** How long a fingerprint's last event is remembered after its alert left the group. */
export const HISTORY_RETENTION_MS = 24 * 3_600_000;
export const DEFAULT_MAX_ALERTS_PER_GROUP = 1_000;

export interface FlushContext {
  readonly now: number;
  readonly muter: Muter;
  /** The defined time intervals the route's `muteTimeIntervals`/`activeTimeIntervals` name. */
  readonly timeIntervals: TimeIntervals;
  readonly newId: () => string;
  readonly externalURL: string;
  readonly maxAlertsPerNotification: number;
}

export interface FlushResult {
  readonly state: GroupState;
  readonly notification?: Notification;
  readonly incident?: IncidentChange;
}

export function newGroup(target: {
  groupId: string;
  groupKey: string;
  routeKey: string;
  route: RouteSettings;
  groupLabels: Labels;
}): GroupState {
  return {
    schema: 1,
    ...target,
    revision: 0,
    alerts: {},
    history: {},
    hasFlushed: false,
    nextFlushAt: null,
    lastNotification: null,
    incident: null,
    droppedAlerts: 0,
    expiresAt: null,
  };
}

export type ApplyOutcome = 'stale' | 'duplicate' | 'dropped' | 'applied';

export interface ApplyResult {
  readonly outcome: ApplyOutcome;
  readonly state: GroupState;
  /** The alert's status changed (or it appeared firing): the firing-alerts view must follow. */
  readonly statusChanged: boolean;
  readonly flappingStarted: boolean;
}

/**
 * Applies one event to the group. Events of a fingerprint are ordered by {@link alertEventTime}:
 * an older one is ignored ('stale'), one at the same instant with the same status is a
 * 'duplicate', and at the same instant a resolution beats a firing. A resolution for an alert the
 * group does not hold is only remembered (so a late firing it ended cannot revive it).
 */
export function applyEvent(
  state: GroupState,
  event: ParsedAlertEvent,
  now: number,
  maxAlerts: number,
): ApplyResult {
  const fp = event.fingerprint;
  const at = alertEventTime(event);
  const previous = state.history[fp];
  if (previous) {
    if (at < previous.at) return { outcome: 'stale', state, statusChanged: false, flappingStarted: false };
    if (at === previous.at && (previous.status === event.status || previous.status === 'resolved')) {
      return { outcome: 'duplicate', state, statusChanged: false, flappingStarted: false };
    }
  }
  const existing = state.alerts[fp];
  if (!existing && event.status === 'firing' && Object.keys(state.alerts).length >= maxAlerts) {
    return {
      outcome: 'dropped',
      state: { ...state, droppedAlerts: state.droppedAlerts + 1 },
      statusChanged: false,
      flappingStarted: false,
    };
  }
  const transition = previous !== undefined && previous.status !== event.status;
  const history = recordTransition(previous, event.status, at, transition, state.route.flap);
  const flappingStarted = history.flappingSince !== undefined && previous?.flappingSince === undefined;
  const alerts = { ...state.alerts };
  let statusChanged = false;
  if (event.status === 'firing') {
    alerts[fp] = {
      fingerprint: fp,
      status: 'firing',
      labels: event.labels,
      annotations: event.annotations,
      startsAt: event.startsAt,
      generatorURL: event.generatorURL,
      ...(event.value !== undefined ? { value: event.value } : {}),
      ...(existing?.notified ? { notified: existing.notified } : {}),
    };
    statusChanged = existing?.status !== 'firing';
  } else if (existing) {
    alerts[fp] = {
      ...existing,
      status: 'resolved',
      annotations: event.annotations,
      startsAt: event.startsAt,
      endsAt: event.endsAt ?? now,
      ...(event.value !== undefined ? { value: event.value } : {}),
    };
    statusChanged = existing.status !== 'resolved';
  }
  return {
    outcome: 'applied',
    state: { ...state, alerts, history: { ...state.history, [fp]: history } },
    statusChanged,
    flappingStarted,
  };
}

function recordTransition(
  previous: AlertHistory | undefined,
  status: 'firing' | 'resolved',
  at: number,
  transition: boolean,
  flap: FlapSettings,
): AlertHistory {
  if (!transition) {
    return {
      status,
      at,
      transitions: previous?.transitions ?? [],
      lastChangeAt: previous?.lastChangeAt ?? at,
      ...(previous?.flappingSince !== undefined ? { flappingSince: previous.flappingSince } : {}),
    };
  }
  const recent = [...(previous?.transitions ?? []), at]
    .filter((t) => t > at - flap.windowMs)
    .slice(-(flap.transitions + 1));
  const flapping =
    flap.enabled && (previous?.flappingSince !== undefined || recent.length > flap.transitions);
  return {
    status,
    at,
    transitions: recent,
    lastChangeAt: at,
    ...(flapping ? { flappingSince: previous?.flappingSince ?? at } : {}),
  };
}

/**
 * Alertmanager's DedupStage `needsUpdate`, with one Pulseboard rule: when `repeatAllowed` is false
 * (the incident is acknowledged) an unchanged group is not re-sent after `repeat_interval`.
 * Resolved alerts are always sent (`send_resolved: true`).
 */
export function needsUpdate(
  entry: NotificationLogEntry | null,
  firing: ReadonlySet<string>,
  resolved: ReadonlySet<string>,
  repeatIntervalMs: number,
  now: number,
  repeatAllowed: boolean,
): boolean {
  if (entry === null) return firing.size > 0;
  const notifiedFiring = new Set(entry.firing);
  if (![...firing].every((fp) => notifiedFiring.has(fp))) return true;
  if (firing.size === 0) return entry.firing.length > 0;
  const notifiedResolved = new Set(entry.resolved);
  if (![...resolved].every((fp) => notifiedResolved.has(fp))) return true;
  return repeatAllowed && entry.at < now - repeatIntervalMs;
}

/**
 * One flush (Alertmanager's `aggrGroup.flush` and notification pipeline, for one receiver):
 *
 * 1. Each alert is presented as it is, except a flapping one, presented as the last notification
 *    said it was (or left out if no notification included it yet).
 * 2. Muted alerts (inhibited, then silenced) are left out, resolved ones too. While the route's
 *    time intervals hold notifications back ({@link timeMuted}), every alert is: Alertmanager's
 *    TimeActiveStage/TimeMuteStage return no alerts and its MultiStage stops there, before the
 *    DedupStage, so nothing is sent and the notification log keeps its last entry; the flush
 *    still counts as done (resolved alerts are deleted, the next one is a group_interval later).
 * 3. If anything is left and {@link needsUpdate} says so, a notification is built; the log entry,
 *    each alert's `notified` and the incident follow.
 * 4. Resolved alerts (not flapping) are deleted, notified or not, as Alertmanager does.
 * 5. The next flush is due a `group_interval` later while the group holds alerts.
 */
export function flush(state: GroupState, ctx: FlushContext): FlushResult {
  const { now } = ctx;
  const history: Record<string, AlertHistory> = { ...state.history };
  const timeline: TimelineEntry[] = [];
  const presented: NotifiedAlert[] = [];
  const flappingNow = new Set<string>();
  const held = timeMuted(state.route, ctx.timeIntervals, now);
  for (const alert of Object.values(state.alerts)) {
    const record = history[alert.fingerprint];
    if (record?.flappingSince !== undefined) {
      if (now - record.lastChangeAt >= state.route.flap.stableMs || !state.route.flap.enabled) {
        const { flappingSince: _, ...stable } = record;
        history[alert.fingerprint] = stable;
        timeline.push({ type: 'flapping_ended', at: now, fingerprint: alert.fingerprint });
      } else flappingNow.add(alert.fingerprint);
    }
    const view = presentedView(alert, flappingNow.has(alert.fingerprint));
    if (!view || held || ctx.muter.mutes(alert)) continue;
    presented.push(view);
  }
  const firing = new Set(presented.filter((a) => a.status === 'firing').map((a) => a.fingerprint));
  const resolved = new Set(presented.filter((a) => a.status === 'resolved').map((a) => a.fingerprint));
  const repeatAllowed = state.incident?.status !== 'acknowledged';
  let next: GroupState = { ...state, history, hasFlushed: true };
  let incident = state.incident;
  let change: IncidentChange['change'] | undefined;
  let notification: Notification | undefined;

  if (
    presented.length > 0 &&
    needsUpdate(state.lastNotification, firing, resolved, state.route.repeatIntervalMs, now, repeatAllowed)
  ) {
    const message = buildWebhookMessage({
      receiver: state.route.receiver,
      groupKey: state.groupKey,
      groupLabels: state.groupLabels,
      alerts: presented,
      externalURL: ctx.externalURL,
      maxAlerts: ctx.maxAlertsPerNotification,
    });
    const id = ctx.newId();
    if (message.status === 'firing' && (incident === null || incident.status === 'resolved')) {
      incident = openIncident(
        ctx.newId(),
        {
          groupId: state.groupId,
          groupKey: state.groupKey,
          receiver: state.route.receiver,
          groupLabels: state.groupLabels,
        },
        now,
      );
      change = 'opened';
    }
    const opened = change === 'opened';
    const alerts: Record<string, StoredAlert> = { ...state.alerts };
    for (const view of presented) {
      const alert = alerts[view.fingerprint] as StoredAlert;
      if (view.status === 'firing' && (opened || alert.notified?.status !== 'firing')) {
        timeline.push({
          type: 'alert_joined',
          at: now,
          fingerprint: alert.fingerprint,
          labels: alert.labels,
          ...(alert.value !== undefined ? { value: alert.value } : {}),
        });
      } else if (view.status === 'resolved' && alert.notified?.status === 'firing') {
        timeline.push({ type: 'alert_resolved', at: now, fingerprint: alert.fingerprint });
      }
      alerts[view.fingerprint] = {
        ...alert,
        notified: { status: view.status, ...(view.endsAt !== undefined ? { endsAt: view.endsAt } : {}) },
      };
    }
    timeline.push({
      type: 'notification_sent',
      at: now,
      notificationId: id,
      status: message.status,
      firing: firing.size,
      resolved: resolved.size,
      messageId: null,
    });
    notification = {
      id,
      groupId: state.groupId,
      receiver: state.route.receiver,
      incidentId: incident?.id ?? null,
      message,
      attributes: notificationAttributes(message, state.route.receiver),
    };
    next = {
      ...next,
      alerts,
      lastNotification: { firing: [...firing].sort(), resolved: [...resolved].sort(), at: now },
    };
  }

  const remaining: Record<string, StoredAlert> = {};
  for (const alert of Object.values(next.alerts)) {
    if (alert.status === 'resolved' && !flappingNow.has(alert.fingerprint)) continue;
    remaining[alert.fingerprint] = alert;
  }
  const stillFiring = Object.values(remaining).some(
    (a) => (flappingNow.has(a.fingerprint) ? a.notified?.status : a.status) === 'firing',
  );
  // A manually resolved incident still records the notifications that follow it (the final resolution).
  if (incident && (incident.status !== 'resolved' || notification))
    incident = appendTimeline(incident, timeline);
  if (incident && incident.status !== 'resolved' && !stillFiring) {
    incident = resolveIncident(incident, null, now);
    change = 'resolved';
  }
  if (incident !== state.incident && change === undefined) change = 'updated';
  const empty = Object.keys(remaining).length === 0;
  next = {
    ...next,
    alerts: remaining,
    incident,
    nextFlushAt: empty ? null : now + state.route.groupIntervalMs,
    expiresAt: empty ? now + HISTORY_RETENTION_MS : null,
  };
  return {
    state: next,
    ...(notification ? { notification } : {}),
    ...(change && incident ? { incident: { change, incident } } : {}),
  };
}

function presentedView(alert: StoredAlert, flapping: boolean): NotifiedAlert | undefined {
  const base = {
    fingerprint: alert.fingerprint,
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: alert.startsAt,
    generatorURL: alert.generatorURL,
  };
  if (!flapping) {
    return { ...base, status: alert.status, ...(alert.endsAt !== undefined ? { endsAt: alert.endsAt } : {}) };
  }
  if (!alert.notified) return undefined;
  return {
    ...base,
    status: alert.notified.status,
    ...(alert.notified.endsAt !== undefined ? { endsAt: alert.notified.endsAt } : {}),
  };
}

/** Forgets fingerprints that left the group more than {@link HISTORY_RETENTION_MS} ago (and caps them). */
export function pruneHistory(state: GroupState, now: number, maxAlerts: number): GroupState {
  const keep = Object.entries(state.history).filter(
    ([fp, h]) => state.alerts[fp] !== undefined || h.at >= now - HISTORY_RETENTION_MS,
  );
  const gone = keep.filter(([fp]) => state.alerts[fp] === undefined).sort((a, b) => b[1].at - a[1].at);
  const cap = maxAlerts;
  const dropped = new Set(gone.slice(cap).map(([fp]) => fp));
  const history = Object.fromEntries(keep.filter(([fp]) => !dropped.has(fp)));
  return Object.keys(history).length === Object.keys(state.history).length ? state : { ...state, history };
}
