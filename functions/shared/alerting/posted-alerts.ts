import type { AlertTransition } from '../domain/alerting/evaluation';
import type { PostedAlert } from '../domain/alerting/postable';
import type { AlertEventPublisher, PostedAlertStore } from '../domain/alerting/stores';
import type { Clock } from '../ports';

/**
 * Alerts from `POST /api/v2/alerts` enter the same pipeline as Pulseboard's own rules: an
 * `Alert Firing` or `Alert Resolved` event on the bus, for the correlator. As in Alertmanager, an
 * alert is identified by its label set, and a re-sent active alert refreshes it (its `endsAt`)
 * rather than repeating it: only a change is published.
 */
export interface PostedAlertsDeps {
  readonly posted: PostedAlertStore;
  readonly events: AlertEventPublisher;
  readonly clock: Clock;
}

/** The rule name an event from outside carries: the alert's own name. */
const externalRule = (alert: PostedAlert) => alert.labels.alertname ?? 'alertmanager-api';

export function postedTransition(alert: PostedAlert): AlertTransition {
  return {
    status: alert.status,
    fingerprint: alert.fingerprint,
    rule: externalRule(alert),
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: new Date(alert.startsAt).toISOString(),
    ...(alert.status === 'resolved' ? { endsAt: new Date(alert.endsAt).toISOString() } : {}),
    ...(alert.generatorURL ? { generatorURL: alert.generatorURL } : {}),
  };
}

/** Whether `next` says something the correlator has not heard: a new alert, a new status, start or annotations. */
function isNews(previous: PostedAlert | undefined, next: PostedAlert): boolean {
  if (!previous) return true;
  if (previous.status !== next.status) return true;
  if (next.status === 'resolved') return false;
  return (
    previous.startsAt !== next.startsAt ||
    JSON.stringify(previous.annotations) !== JSON.stringify(next.annotations)
  );
}

/**
 * Records posted alerts and publishes what changed. The events go out before the records are
 * written: if the write fails, the next re-send publishes again (a duplicate the correlator
 * ignores) rather than the change being lost.
 */
export async function receivePostedAlerts(
  alerts: readonly PostedAlert[],
  deps: PostedAlertsDeps,
): Promise<{ published: number }> {
  // One alert per label set: the last one in the request wins, as Alertmanager's store does.
  const latest = new Map(alerts.map((alert) => [alert.fingerprint, alert]));
  const known = await deps.posted.getMany([...latest.keys()]);
  const news = [...latest.values()].filter((alert) => isNews(known.get(alert.fingerprint), alert));
  if (news.length > 0) await deps.events.publish(news.map(postedTransition));
  for (const alert of latest.values()) await deps.posted.put(alert);
  return { published: news.length };
}

/**
 * The scheduled half of `resolve_timeout`: a firing alert whose `endsAt` passed without a re-send
 * resolves at its `endsAt`.
 */
export async function expirePostedAlerts(deps: PostedAlertsDeps): Promise<{ resolved: number }> {
  const now = deps.clock();
  const expired = (await deps.posted.list())
    .filter((alert) => alert.status === 'firing' && alert.endsAt <= now)
    .map((alert): PostedAlert => ({ ...alert, status: 'resolved' }));
  if (expired.length === 0) return { resolved: 0 };
  await deps.events.publish(expired.map(postedTransition));
  for (const alert of expired) await deps.posted.put(alert);
  return { resolved: expired.length };
}
