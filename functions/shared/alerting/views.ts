import type { Incident, IncidentChange, TimelineEntry } from '../domain/alerting/dispatch/incident';
import { incidentFacts } from '../domain/alerting/dispatch/incident';
import type { AlertRecord } from '../domain/alerting/stores';

/**
 * How incidents and alerts look outside the correlator: in the HTTP API and on the `incidents` and
 * `alerts` WebSocket channels. Times are ISO 8601, as in the silences API and Alertmanager's.
 */
export interface IncidentView {
  readonly id: string;
  readonly status: Incident['status'];
  readonly groupKey: string;
  readonly receiver: string;
  readonly groupLabels: Incident['groupLabels'];
  readonly severity?: string;
  /** Alerts that joined and have not resolved. */
  readonly firingAlerts: number;
  readonly fingerprints: readonly string[];
  readonly openedAt: string;
  readonly acknowledgedAt?: string;
  readonly acknowledgedBy?: string;
  readonly resolvedAt?: string;
  readonly resolvedBy?: string | null;
  readonly timeline?: readonly TimelineView[];
  /** Oldest entries dropped to keep the timeline bounded. */
  readonly timelineDropped?: number;
}

export type TimelineView = Omit<TimelineEntry, 'at'> & { readonly at: string };

const iso = (ms: number) => new Date(ms).toISOString();

/** An incident's view; `timeline` adds the whole timeline (the list and the broadcast leave it out). */
export function incidentView(incident: Incident, options: { timeline?: boolean } = {}): IncidentView {
  const facts = incidentFacts(incident);
  return {
    id: incident.id,
    status: incident.status,
    groupKey: incident.groupKey,
    receiver: incident.receiver,
    groupLabels: incident.groupLabels,
    ...(facts.severity === undefined ? {} : { severity: facts.severity }),
    firingAlerts: facts.firing,
    fingerprints: facts.fingerprints,
    openedAt: iso(incident.openedAt),
    ...(incident.acknowledgedAt === undefined ? {} : { acknowledgedAt: iso(incident.acknowledgedAt) }),
    ...(incident.acknowledgedBy === undefined ? {} : { acknowledgedBy: incident.acknowledgedBy }),
    ...(incident.resolvedAt === undefined ? {} : { resolvedAt: iso(incident.resolvedAt) }),
    ...(incident.resolvedBy === undefined ? {} : { resolvedBy: incident.resolvedBy }),
    ...(options.timeline
      ? {
          timeline: incident.timeline.map((entry) => ({ ...entry, at: iso(entry.at) }) as TimelineView),
          timelineDropped: incident.timelineDropped,
        }
      : {}),
  };
}

/** The `incidents` channel's payload: what changed, and the incident without its timeline. */
export function incidentMessage(change: IncidentChange) {
  return { change: change.change, incident: incidentView(change.incident) };
}

export interface AlertView {
  readonly fingerprint: string;
  readonly status: AlertRecord['status'];
  readonly labels: AlertRecord['labels'];
  readonly at: string;
}

/** The `alerts` channel's payload and `GET /api/alerts`' items. */
export function alertView(alert: AlertRecord): AlertView {
  return { fingerprint: alert.fingerprint, status: alert.status, labels: alert.labels, at: iso(alert.at) };
}
