import {
  type AlertEvent,
  parseAlertEvent,
} from '../../../../functions/shared/domain/alerting/dispatch/alert';
import {
  type DispatchInput,
  type Effect,
  handle,
  routeAlert,
} from '../../../../functions/shared/domain/alerting/dispatch/dispatcher';
import type { GroupState, Notification } from '../../../../functions/shared/domain/alerting/dispatch/group';
import type { Incident } from '../../../../functions/shared/domain/alerting/dispatch/incident';
import {
  type InhibitRule,
  parseInhibitRules,
} from '../../../../functions/shared/domain/alerting/dispatch/inhibit';
import { createMuter } from '../../../../functions/shared/domain/alerting/dispatch/mute';
import {
  parseRouteTree,
  type Route,
  type RouteConfig,
} from '../../../../functions/shared/domain/alerting/dispatch/route';
import type { Silence } from '../../../../functions/shared/domain/alerting/dispatch/silence';
import {
  parseTimeIntervals,
  type TimeIntervals,
} from '../../../../functions/shared/domain/alerting/dispatch/time-intervals';

export const T0 = Date.parse('2025-03-01T12:00:00Z');
export const SECOND = 1_000;
export const MINUTE = 60_000;
export const HOUR = 3_600_000;

/**
 * Plays the AWS layer in memory: one stored state per group, delayed wakes delivered when the
 * frozen clock is stepped past them, a firing-alerts view kept from `alert_status` effects.
 */
export class Correlator {
  now = T0;
  readonly groups = new Map<string, GroupState>();
  readonly notifications: Notification[] = [];
  readonly incidents = new Map<string, Incident>();
  readonly effects: Effect[] = [];
  silences: Silence[] = [];
  /** The routing tree; replace it to play a configuration change. */
  routes: Route;
  private readonly inhibitRules: InhibitRule[];
  private readonly timeIntervals: TimeIntervals;
  private readonly firing = new Map<string, { fingerprint: string; labels: Record<string, string> }>();
  private wakes: { groupId: string; at: number }[] = [];
  private ids = 0;

  /** `timeIntervals` is alertmanager.yml's `time_intervals` list. */
  constructor(routes: RouteConfig, inhibitRules: unknown[] = [], timeIntervals: unknown[] = []) {
    this.timeIntervals = parseTimeIntervals({ time_intervals: timeIntervals });
    this.routes = parseRouteTree(routes, new Set(this.timeIntervals.keys()));
    this.inhibitRules = parseInhibitRules(inhibitRules);
  }

  /** Delivers an alert event to every group it routes to. */
  send(event: AlertEvent): void {
    const parsed = parseAlertEvent(event);
    for (const target of routeAlert(this.routes, parsed.labels)) {
      this.apply(target.groupId, { kind: 'alert', target, event: parsed });
    }
  }

  /** Delivers a wake for a group right now, whether or not one is due. */
  wake(groupId: string): void {
    this.apply(groupId, { kind: 'wake' });
  }

  ack(incidentId: string, by: string): void {
    this.apply(this.groupOf(incidentId), { kind: 'ack', incidentId, by });
  }

  resolve(incidentId: string, by: string): void {
    this.apply(this.groupOf(incidentId), { kind: 'resolve', incidentId, by });
  }

  /** Steps the clock, delivering due wakes in time order at their scheduled instants. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = this.wakes.filter((w) => w.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.wakes.splice(this.wakes.indexOf(due), 1);
      this.now = Math.max(this.now, due.at);
      this.wake(due.groupId);
    }
    this.now = until;
  }

  pendingWakes(): readonly { groupId: string; at: number }[] {
    return this.wakes;
  }

  /** The notifications sent since the last call. */
  takeNotifications(): Notification[] {
    return this.notifications.splice(0);
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  state(groupId: string): GroupState {
    const state = this.groups.get(groupId);
    if (!state) throw new Error(`no group ${groupId}`);
    return state;
  }

  private groupOf(incidentId: string): string {
    const incident = this.incidents.get(incidentId);
    if (!incident) throw new Error(`no incident ${incidentId}`);
    return incident.groupId;
  }

  private apply(groupId: string, input: DispatchInput): void {
    const muter = createMuter({
      silences: this.silences,
      inhibitRules: this.inhibitRules,
      firing: { firing: [...this.firing.values()] },
      now: this.now,
    });
    const result = handle(this.groups.get(groupId), input, {
      now: this.now,
      routes: this.routes,
      muter,
      timeIntervals: this.timeIntervals,
      newId: () => `id-${++this.ids}`,
      externalURL: 'https://pulseboard.example.com',
    });
    if (!result.changed || !result.state) return;
    this.groups.set(groupId, result.state);
    for (const effect of result.effects) {
      this.effects.push(effect);
      if (effect.kind === 'notify') this.notifications.push(effect.notification);
      else if (effect.kind === 'schedule') this.wakes.push({ groupId: effect.groupId, at: effect.at });
      else if (effect.kind === 'incident')
        this.incidents.set(effect.change.incident.id, effect.change.incident);
      else if (effect.kind === 'alert_status') {
        if (effect.status === 'firing') this.firing.set(effect.fingerprint, effect);
        else this.firing.delete(effect.fingerprint);
      }
    }
  }
}

/** A firing event at the correlator's current time (or `startsAt`). */
export function firing(
  labels: Record<string, string>,
  startsAt: number,
  extra: Partial<AlertEvent> = {},
): AlertEvent {
  return {
    status: 'firing',
    fingerprint: fingerprintOf(labels),
    labels,
    annotations: { summary: `${labels.alertname ?? 'alert'} is firing` },
    startsAt: new Date(startsAt).toISOString(),
    generatorURL: 'https://pulseboard.example.com/rules/1',
    ...extra,
  };
}

export function resolved(labels: Record<string, string>, startsAt: number, endsAt: number): AlertEvent {
  return { ...firing(labels, startsAt), status: 'resolved', endsAt: new Date(endsAt).toISOString() };
}

/** A stand-in fingerprint (the real one is another module's): FNV-1a 64 over sorted name/value pairs. */
export function fingerprintOf(labels: Record<string, string>): string {
  let hash = 0xcbf29ce484222325n;
  for (const key of Object.keys(labels).sort()) {
    for (const char of `${key}\xff${labels[key]}\xff`) {
      hash ^= BigInt(char.charCodeAt(0));
      hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
    }
  }
  return hash.toString(16).padStart(16, '0');
}

/** The alert names (or a label) of a notification's alerts, with their status. */
export function summary(notification: Notification, label = 'alertname'): string[] {
  return notification.message.alerts.map((a) => `${a.labels[label]}:${a.status}`);
}
