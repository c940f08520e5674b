import { formatGoTime, GO_ZERO_TIME, type ParsedAlertEvent } from './alert';
import { compareStrings, type Labels, labelSetBefore } from './labels';

/**
 * The notification body: Alertmanager's webhook message, version "4" (notify/webhook/webhook.go
 * and template.Data), so anything that consumes Alertmanager webhooks consumes Pulseboard's SNS
 * messages. Keys are in Go's marshalling order: the embedded `template.Data` fields first, then
 * `version`, `groupKey`, `truncatedAlerts`.
 */
export interface WebhookMessage {
  /** Alertmanager writes `regexp.QuoteMeta(receiver)`; so does this (`team.a` → `team\.a`). */
  readonly receiver: string;
  readonly status: 'firing' | 'resolved';
  readonly alerts: readonly WebhookAlert[];
  readonly groupLabels: Labels;
  readonly commonLabels: Labels;
  readonly commonAnnotations: Labels;
  readonly externalURL: string;
  readonly version: '4';
  readonly groupKey: string;
  readonly truncatedAlerts: number;
}

export interface WebhookAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly startsAt: string;
  /** `0001-01-01T00:00:00Z` while firing, as Alertmanager hides a firing alert's end. */
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly fingerprint: string;
}

/** An alert as a flush presents it: the event without its evaluated value. Times in epoch ms. */
export type NotifiedAlert = Omit<ParsedAlertEvent, 'value'>;

export interface WebhookInput {
  readonly receiver: string;
  readonly groupKey: string;
  readonly groupLabels: Labels;
  readonly alerts: readonly NotifiedAlert[];
  readonly externalURL: string;
  /** Alertmanager's webhook `max_alerts`: keep the first N after sorting, count the rest; 0 = all. */
  readonly maxAlerts?: number;
}

/**
 * Alertmanager's `types.AlertSlice` order: by the `job` label, then `instance` (an alert having the
 * label sorts before one lacking it), then `LabelSet.Before` (fewer labels first, then values in
 * label-name order). Stable.
 */
export function sortAlerts<T extends { readonly labels: Labels }>(alerts: readonly T[]): T[] {
  return [...alerts].sort((a, b) => {
    for (const key of ['job', 'instance']) {
      const aHas = Object.hasOwn(a.labels, key);
      const bHas = Object.hasOwn(b.labels, key);
      if (!aHas && !bHas) continue;
      if (!aHas) return 1;
      if (!bHas) return -1;
      const order = compareStrings(a.labels[key] as string, b.labels[key] as string);
      if (order !== 0) return order;
    }
    if (labelSetBefore(a.labels, b.labels)) return -1;
    if (labelSetBefore(b.labels, a.labels)) return 1;
    return 0;
  });
}

/** Builds the webhook body; `alerts` may be in any order. */
export function buildWebhookMessage(input: WebhookInput): WebhookMessage {
  const sorted = sortAlerts(input.alerts);
  const max = input.maxAlerts ?? 0;
  const kept = max > 0 && sorted.length > max ? sorted.slice(0, max) : sorted;
  const alerts = kept.map(
    (a): WebhookAlert => ({
      status: a.status,
      labels: sortedRecord(a.labels),
      annotations: sortedRecord(a.annotations),
      startsAt: formatGoTime(a.startsAt),
      endsAt: a.status === 'resolved' && a.endsAt !== undefined ? formatGoTime(a.endsAt) : GO_ZERO_TIME,
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
    }),
  );
  return {
    receiver: quoteMeta(input.receiver),
    status: sorted.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    groupLabels: sortedRecord(input.groupLabels),
    // Over every alert of the flush, before truncation, as Alertmanager computes them.
    commonLabels: common(sorted.map((a) => a.labels)),
    commonAnnotations: common(sorted.map((a) => a.annotations)),
    externalURL: input.externalURL,
    version: '4',
    groupKey: input.groupKey,
    truncatedAlerts: sorted.length - kept.length,
  };
}

/** The SNS message attributes subscriptions filter on. */
export interface NotificationAttributes {
  /** The highest `severity` among firing alerts (among all, when none fires); `none` when no alert has one. */
  readonly severity: string;
  readonly status: 'firing' | 'resolved';
  readonly group: string;
  readonly receiver: string;
}

/** Known severities, highest first; any other value ranks below these, then alphabetically. */
export const SEVERITY_ORDER = ['critical', 'high', 'error', 'warning', 'medium', 'low', 'info'] as const;

/** The filterable attributes of a notification. */
export function notificationAttributes(message: WebhookMessage, receiver: string): NotificationAttributes {
  const firing = message.alerts.filter((a) => a.status === 'firing');
  const pool = firing.length > 0 ? firing : message.alerts;
  const severities = pool
    .map((a) => a.labels.severity)
    .filter((s): s is string => s !== undefined && s !== '');
  return {
    severity: highestSeverity(severities) ?? 'none',
    status: message.status,
    group: message.groupKey,
    receiver,
  };
}

/** The highest of these severities by {@link SEVERITY_ORDER}. */
export function highestSeverity(severities: readonly string[]): string | undefined {
  const rank = (s: string) => {
    const i = (SEVERITY_ORDER as readonly string[]).indexOf(s.toLowerCase());
    return i === -1 ? SEVERITY_ORDER.length : i;
  };
  return [...severities].sort((a, b) => rank(a) - rank(b) || compareStrings(a, b))[0];
}

function common(sets: readonly Labels[]): Record<string, string> {
  const [first, ...rest] = sets;
  if (!first) return {};
  const out: Record<string, string> = { ...first };
  for (const set of rest) {
    for (const key of Object.keys(out)) if (set[key] !== out[key]) delete out[key];
  }
  return sortedRecord(out);
}

/** Go marshals maps with sorted keys. */
function sortedRecord(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(labels).sort(compareStrings)) out[key] = labels[key] as string;
  return out;
}

/** Go's `regexp.QuoteMeta`. */
export function quoteMeta(text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
