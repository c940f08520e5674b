import { type EvaluationDeps, evaluateDatapoints } from '../shared/alerting/evaluation-service';
import type { RoutingSource } from '../shared/alerting/routing';
import { TEST_TRIGGER_METRIC, TEST_TRIGGER_RULE, testTriggerRule } from '../shared/alerting/test-trigger';
import { type AlertView, alertView } from '../shared/alerting/views';
import { routeAlert } from '../shared/domain/alerting/dispatch/dispatcher';
import { alertLabels } from '../shared/domain/alerting/evaluation';
import { fingerprint } from '../shared/domain/alerting/fingerprint';
import { isTimeOrderedId, timeOrderedId } from '../shared/domain/alerting/ids';
import { SEVERITIES, type Severity } from '../shared/domain/alerting/rules';
import type { AlertsView } from '../shared/domain/alerting/stores';
import { validateDatapoints } from '../shared/domain/ingest';
import { NotFoundError, ValidationError } from '../shared/errors';

export interface TestTriggerDeps extends EvaluationDeps {
  readonly routing: RoutingSource;
  readonly newId?: () => string;
}

/** What the test trigger answers: enough to follow the alert through every stage. */
export interface TestTriggerResult {
  readonly triggerId: string;
  readonly status: 'firing' | 'resolved';
  readonly rule: string;
  readonly fingerprint: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The EventBridge event ids of the transitions published (none when nothing changed). */
  readonly eventIds: readonly string[];
  /** The aggregation groups the alert routes to (`groupKey|receiver`), in routing order. */
  readonly groups: readonly { readonly groupKey: string; readonly receiver: string }[];
  readonly links: { readonly incidents: string; readonly alerts: string };
}

const KNOWN_FIELDS = new Set(['severity', 'labels', 'resolve']);

/**
 * POST /api/alerts/test-trigger: writes one datapoint of the synthetic series
 * `pulseboard_test_trigger{trigger_id=…}` and evaluates the built-in test rule on it, so the alert
 * goes through the real pipeline: state write, EventBridge, correlator, incident, SNS, WebSocket.
 * Body (all optional): `{"severity": "critical"|"warning"|"info", "labels": {…}}` fires a new test
 * alert; `{"resolve": "<triggerId>"}` resolves one. An unresolved test alert resolves itself once
 * its series is stale (5 minutes).
 */
export async function triggerTestAlert(body: unknown, deps: TestTriggerDeps): Promise<TestTriggerResult> {
  const input = readBody(body);
  const now = deps.clock();
  if (input.resolve !== undefined) return resolveTestAlert(input.resolve, deps, now);
  const triggerId = (deps.newId ?? (() => timeOrderedId(now)))();
  const rule = testTriggerRule(input.severity);
  const point = datapoint({ ...input.labels, trigger_id: triggerId }, 1, now);
  const outcome = await evaluateDatapoints([rule], [point], deps);
  return result(triggerId, 'firing', alertLabels(rule, point.labels), outcome.eventIds, deps);
}

async function resolveTestAlert(triggerId: string, deps: TestTriggerDeps, now: number) {
  const stored = (await deps.states.list(TEST_TRIGGER_RULE)).find(
    (entry) => entry.state.labels.trigger_id === triggerId,
  );
  if (!stored) throw new NotFoundError(`No test alert ${triggerId} (it may have resolved itself already)`);
  const labels = stored.state.labels;
  const rule = testTriggerRule((stored.state.active?.labels.severity as Severity | undefined) ?? 'warning');
  const outcome = await evaluateDatapoints([rule], [datapoint(labels, 0, now)], deps);
  const alert = stored.state.active?.labels ?? alertLabels(rule, labels);
  return result(triggerId, 'resolved', alert, outcome.eventIds, deps);
}

async function result(
  triggerId: string,
  status: 'firing' | 'resolved',
  labels: Readonly<Record<string, string>>,
  eventIds: readonly string[],
  deps: TestTriggerDeps,
): Promise<TestTriggerResult> {
  const routing = await deps.routing.current();
  const fp = fingerprint(labels);
  return {
    triggerId,
    status,
    rule: TEST_TRIGGER_RULE,
    fingerprint: fp,
    labels,
    eventIds,
    groups: routeAlert(routing.tree, labels).map((t) => ({
      groupKey: t.groupKey,
      receiver: t.route.receiver,
    })),
    links: { incidents: `/api/incidents?fingerprint=${fp}`, alerts: '/api/alerts' },
  };
}

function datapoint(labels: Record<string, string>, value: number, now: number) {
  const { accepted, rejected } = validateDatapoints(
    [{ name: TEST_TRIGGER_METRIC, value, timestamp: now, labels }],
    now,
  );
  const point = accepted[0];
  if (!point) {
    const problem = rejected[0];
    throw new ValidationError(`labels: ${problem?.message ?? 'invalid'}`, [
      { path: 'labels', message: problem?.message ?? 'invalid' },
    ]);
  }
  const { index: _index, ...rest } = point;
  return rest;
}

function readBody(body: unknown): { severity?: Severity; labels: Record<string, string>; resolve?: string } {
  if (body === undefined || body === null) return { labels: {} };
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('The body must be a JSON object (or empty)', [
      { path: '', message: 'expected an object' },
    ]);
  }
  const record = body as Record<string, unknown>;
  const issues = Object.keys(record)
    .filter((key) => !KNOWN_FIELDS.has(key))
    .map((key) => ({ path: key, message: 'unknown field (expected severity, labels or resolve)' }));
  const { severity, labels, resolve } = record;
  if (severity !== undefined && !(SEVERITIES as readonly unknown[]).includes(severity)) {
    issues.push({ path: 'severity', message: `expected one of ${SEVERITIES.join(', ')}` });
  }
  if (labels !== undefined && (typeof labels !== 'object' || labels === null || Array.isArray(labels))) {
    issues.push({ path: 'labels', message: 'expected an object of strings' });
  } else if (labels && 'trigger_id' in labels) {
    issues.push({ path: 'labels.trigger_id', message: 'trigger_id is set by the trigger' });
  }
  if (resolve !== undefined && (typeof resolve !== 'string' || !isTimeOrderedId(resolve))) {
    issues.push({ path: 'resolve', message: 'expected a triggerId from an earlier trigger' });
  }
  if (issues.length > 0) {
    throw ValidationError.listing('Invalid test trigger', issues);
  }
  return {
    ...(severity === undefined ? {} : { severity: severity as Severity }),
    labels: (labels ?? {}) as Record<string, string>,
    ...(resolve === undefined ? {} : { resolve: resolve as string }),
  };
}

/** GET /api/alerts[?status=firing|resolved]: the firing-alerts view (resolved ones stay a day). */
export async function listAlerts(
  query: Readonly<Record<string, string | undefined>>,
  view: AlertsView,
): Promise<{ alerts: AlertView[] }> {
  const status = query.status;
  if (status !== undefined && status !== 'firing' && status !== 'resolved') {
    throw new ValidationError('status must be "firing" or "resolved"', [
      { path: 'status', message: 'expected firing or resolved' },
    ]);
  }
  const alerts = (await view.list())
    .filter((alert) => status === undefined || alert.status === status)
    .sort((a, b) => b.at - a.at)
    .map(alertView);
  return { alerts };
}
