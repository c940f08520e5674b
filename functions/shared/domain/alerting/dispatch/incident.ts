import { ConflictError, ValidationError } from '../../../errors';
import type { Labels } from './labels';
import { highestSeverity } from './webhook';

/**
 * An incident is the notified life of one aggregation group: it opens with the group's first
 * firing notification and resolves when no alert of the group fires any more (or by hand). A
 * firing notification after that opens a new incident with a new id.
 *
 * Acknowledging stops repeat notifications (repeat_interval) only: a new alert joining the group,
 * an alert resolving and the final resolution still notify.
 */
export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';

export type TimelineEntry =
  | {
      readonly type: 'alert_joined';
      readonly at: number;
      readonly fingerprint: string;
      readonly labels: Labels;
      readonly value?: number;
    }
  | { readonly type: 'alert_resolved'; readonly at: number; readonly fingerprint: string }
  | {
      readonly type: 'notification_sent';
      readonly at: number;
      readonly notificationId: string;
      readonly status: 'firing' | 'resolved';
      readonly firing: number;
      readonly resolved: number;
      /** The SNS MessageId, filled in by {@link recordNotification} once the AWS layer published. */
      readonly messageId: string | null;
    }
  | { readonly type: 'acknowledged'; readonly at: number; readonly by: string }
  | {
      readonly type: 'resolved';
      readonly at: number;
      readonly by: string | null;
      readonly automatic: boolean;
    }
  | {
      readonly type: 'flapping_started' | 'flapping_ended';
      readonly at: number;
      readonly fingerprint: string;
    };

export interface Incident {
  readonly id: string;
  readonly groupId: string;
  readonly groupKey: string;
  readonly receiver: string;
  readonly groupLabels: Labels;
  readonly status: IncidentStatus;
  readonly openedAt: number;
  readonly acknowledgedAt?: number;
  readonly acknowledgedBy?: string;
  readonly resolvedAt?: number;
  /** Who resolved it; `null` when it resolved automatically. */
  readonly resolvedBy?: string | null;
  readonly timeline: readonly TimelineEntry[];
  /** Entries dropped (oldest first) to keep the timeline within {@link MAX_TIMELINE}. */
  readonly timelineDropped: number;
}

export const MAX_TIMELINE = 500;

/** A change the AWS layer persists and broadcasts on the `incidents` channel. */
export interface IncidentChange {
  readonly change: 'opened' | 'updated' | 'acknowledged' | 'resolved';
  readonly incident: Incident;
}

export function openIncident(
  id: string,
  group: { groupId: string; groupKey: string; receiver: string; groupLabels: Labels },
  at: number,
): Incident {
  return { id, ...group, status: 'open', openedAt: at, timeline: [], timelineDropped: 0 };
}

/** Appends entries, dropping the oldest beyond {@link MAX_TIMELINE}. */
export function appendTimeline(incident: Incident, entries: readonly TimelineEntry[]): Incident {
  if (entries.length === 0) return incident;
  const timeline = [...incident.timeline, ...entries];
  const excess = Math.max(0, timeline.length - MAX_TIMELINE);
  return {
    ...incident,
    timeline: timeline.slice(excess),
    timelineDropped: incident.timelineDropped + excess,
  };
}

/**
 * Acknowledges an incident. Acknowledging again is a no-op (the first acknowledgement stays);
 * acknowledging a resolved incident is a {@link ConflictError}.
 */
export function acknowledgeIncident(incident: Incident, by: string, at: number): Incident {
  requireActor(by);
  if (incident.status === 'resolved') throw new ConflictError(`Incident ${incident.id} is already resolved`);
  if (incident.status === 'acknowledged') return incident;
  return appendTimeline({ ...incident, status: 'acknowledged', acknowledgedAt: at, acknowledgedBy: by }, [
    { type: 'acknowledged', at, by },
  ]);
}

/** Resolves an incident by hand (`by`) or automatically (`by` null). Resolving a resolved incident is a no-op. */
export function resolveIncident(incident: Incident, by: string | null, at: number): Incident {
  if (by !== null) requireActor(by);
  if (incident.status === 'resolved') return incident;
  return appendTimeline({ ...incident, status: 'resolved', resolvedAt: at, resolvedBy: by }, [
    { type: 'resolved', at, by, automatic: by === null },
  ]);
}

/**
 * Fills in the SNS MessageId of a notification on the timeline. Idempotent; a notification the
 * timeline does not hold (dropped by the cap, or another incident's) leaves the incident unchanged.
 */
export function recordNotification(incident: Incident, notificationId: string, messageId: string): Incident {
  let changed = false;
  const timeline = incident.timeline.map((entry) => {
    if (
      entry.type !== 'notification_sent' ||
      entry.notificationId !== notificationId ||
      entry.messageId === messageId
    ) {
      return entry;
    }
    changed = true;
    return { ...entry, messageId };
  });
  return changed ? { ...incident, timeline } : incident;
}

function requireActor(by: string): void {
  if (typeof by !== 'string' || by.trim() === '' || by.length > 200) {
    throw new ValidationError('by: who acted is required (1 to 200 characters)', [
      { path: 'by', message: 'required, 1 to 200 characters' },
    ]);
  }
}

/** What the incident's timeline says about its alerts: for filters and summaries. */
export interface IncidentFacts {
  /** The highest severity among the alerts that joined (see {@link highestSeverity}). */
  readonly severity?: string;
  /** Every alert that joined, in joining order, each once. */
  readonly fingerprints: readonly string[];
  /** Alerts that joined and have not resolved since. */
  readonly firing: number;
}

export function incidentFacts(incident: Incident): IncidentFacts {
  const firing = new Set<string>();
  const fingerprints: string[] = [];
  const severities: string[] = [];
  for (const entry of incident.timeline) {
    if (entry.type === 'alert_joined') {
      if (!fingerprints.includes(entry.fingerprint)) fingerprints.push(entry.fingerprint);
      firing.add(entry.fingerprint);
      const severity = entry.labels.severity;
      if (severity) severities.push(severity);
    } else if (entry.type === 'alert_resolved') {
      firing.delete(entry.fingerprint);
    }
  }
  const severity = highestSeverity(severities);
  return { ...(severity === undefined ? {} : { severity }), fingerprints, firing: firing.size };
}
