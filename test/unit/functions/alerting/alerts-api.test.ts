import { describe, expect, it } from 'vitest';
import { listAlerts, type TestTriggerDeps, triggerTestAlert } from '../../../../functions/alerts/alerts-api';
import { RoutingSource } from '../../../../functions/shared/alerting/routing';
import { TEST_TRIGGER_RULE } from '../../../../functions/shared/alerting/test-trigger';
import { fingerprint } from '../../../../functions/shared/domain/alerting/fingerprint';
import { timeOrderedId } from '../../../../functions/shared/domain/alerting/ids';
import type { AlertRecord } from '../../../../functions/shared/domain/alerting/stores';
import { NotFoundError, ValidationError } from '../../../../functions/shared/errors';
import {
  MemoryAlertsView,
  MemoryEventBus,
  MemoryRoutingStore,
  MemoryStateStore,
} from '../../alerting/service/memory-ports';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const SECOND = 1_000;

function setup() {
  const states = new MemoryStateStore();
  const events = new MemoryEventBus();
  const routingStore = new MemoryRoutingStore();
  const clock = { now: T0 };
  let ids = 0;
  const deps: TestTriggerDeps = {
    states,
    events,
    clock: () => clock.now,
    routing: new RoutingSource(routingStore),
    newId: () => timeOrderedId(clock.now, new Uint8Array(10).fill(++ids)),
  };
  return { states, events, routingStore, clock, deps };
}

/** The rejection of a call: fails the test unless it is a ValidationError. */
async function validationIssues(call: Promise<unknown>) {
  const error = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).issues.map((issue) => issue.path);
}

describe('triggerTestAlert', () => {
  it('fires one test alert through evaluation and answers the groups the default routing gives', async () => {
    // Prepare
    const { deps, events } = setup();

    // Act
    const result = await triggerTestAlert({ severity: 'critical', labels: { team: 'sre' } }, deps);

    // Assess
    expect(events.published).toHaveLength(1);
    const [published] = events.published;
    const labels = {
      team: 'sre',
      trigger_id: result.triggerId,
      alertname: 'PulseboardTestTrigger',
      severity: 'critical',
      test: 'true',
    };
    expect(published).toMatchObject({ status: 'firing', rule: TEST_TRIGGER_RULE, labels });
    expect(result).toMatchObject({
      status: 'firing',
      rule: 'PulseboardTestTrigger',
      labels,
      fingerprint: fingerprint(labels),
      eventIds: ['event-0'],
      groups: [{ groupKey: '{}:{alertname="PulseboardTestTrigger"}', receiver: 'default' }],
      links: { incidents: `/api/incidents?fingerprint=${fingerprint(labels)}`, alerts: '/api/alerts' },
    });
    expect(published?.fingerprint).toBe(result.fingerprint);
  });

  it('fires a warning with no labels of its own when the body is empty', async () => {
    // Prepare
    const { deps, events } = setup();

    // Act
    const result = await triggerTestAlert(undefined, deps);

    // Assess
    expect(events.published.map((t) => t.labels)).toEqual([
      { trigger_id: result.triggerId, alertname: 'PulseboardTestTrigger', severity: 'warning', test: 'true' },
    ]);
  });

  it('gives each trigger its own alert', async () => {
    // Prepare
    const { deps, events, clock } = setup();

    // Act
    const first = await triggerTestAlert({}, deps);
    clock.now += SECOND;
    const second = await triggerTestAlert({}, deps);

    // Assess
    expect(first.triggerId).not.toBe(second.triggerId);
    expect(events.published.map((t) => [t.status, t.labels.trigger_id])).toEqual([
      ['firing', first.triggerId],
      ['firing', second.triggerId],
    ]);
  });

  it('answers the groups of the routing set at run time', async () => {
    // Prepare
    const { deps, routingStore } = setup();
    await routingStore.put(
      {
        route: {
          receiver: 'default',
          group_by: ['alertname'],
          routes: [{ receiver: 'sre-pager', matchers: ['test="true"'], group_by: ['alertname', 'severity'] }],
        },
      },
      '2026-03-01T11:00:00Z',
    );

    // Act
    const result = await triggerTestAlert({ severity: 'info' }, deps);

    // Assess
    expect(result.groups).toEqual([
      {
        groupKey: '{}/{test="true"}:{alertname="PulseboardTestTrigger", severity="info"}',
        receiver: 'sre-pager',
      },
    ]);
  });

  it('resolves the test alert it fired, keeping its severity and labels', async () => {
    // Prepare
    const { deps, events, clock } = setup();
    const fired = await triggerTestAlert({ severity: 'critical', labels: { team: 'sre' } }, deps);
    clock.now += 10 * SECOND;

    // Act
    const result = await triggerTestAlert({ resolve: fired.triggerId }, deps);

    // Assess
    expect(events.published.map((t) => t.status)).toEqual(['firing', 'resolved']);
    const resolution = events.published[1];
    expect(resolution?.fingerprint).toBe(fired.fingerprint);
    expect(resolution?.labels).toEqual(fired.labels);
    expect(resolution?.endsAt).toBeDefined();
    expect(result).toMatchObject({
      triggerId: fired.triggerId,
      status: 'resolved',
      fingerprint: fired.fingerprint,
      labels: fired.labels,
      eventIds: ['event-1'],
      groups: fired.groups,
    });
  });

  it('answers not found when resolving a trigger id it does not hold', async () => {
    // Prepare
    const { deps, events } = setup();
    await triggerTestAlert({}, deps);

    // Act
    const outcome = triggerTestAlert({ resolve: timeOrderedId(T0 - 60_000) }, deps);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(NotFoundError);
    expect(events.published).toHaveLength(1);
  });

  it.each([
    ['an unknown severity', { severity: 'fatal' }, ['severity']],
    ['labels that are not an object', { labels: 'team=sre' }, ['labels']],
    ['labels that are an array', { labels: ['team'] }, ['labels']],
    ['labels that are null', { labels: null }, ['labels']],
    ['a trigger_id label', { labels: { trigger_id: 'mine' } }, ['labels.trigger_id']],
    ['an unknown field', { severity: 'info', colour: 'red' }, ['colour']],
    ['a resolve id that is not a trigger id', { resolve: 'abc' }, ['resolve']],
    ['a resolve id that is not text', { resolve: 42 }, ['resolve']],
    ['an invalid label name', { labels: { 'bad-name': 'x' } }, ['labels']],
    ['a label value that is not text', { labels: { team: 7 } }, ['labels']],
    ['a body that is text', 'fire', ['']],
  ])('refuses %s with a validation error naming it, and publishes nothing', async (_, body, paths) => {
    // Prepare
    const { deps, events, states } = setup();

    // Act
    const issues = await validationIssues(triggerTestAlert(body, deps));

    // Assess
    expect(issues).toEqual(paths);
    expect(events.published).toEqual([]);
    expect(states.puts).toBe(0);
  });
});

describe('listAlerts', () => {
  const record = (fp: string, status: AlertRecord['status'], at: number): AlertRecord => ({
    fingerprint: fp,
    labels: { alertname: 'HighCPU', host: fp },
    status,
    at,
  });

  async function viewWith(...records: AlertRecord[]) {
    const view = new MemoryAlertsView();
    for (const r of records) await view.put(r);
    return view;
  }

  it('lists every alert newest first, with ISO times', async () => {
    // Prepare
    const view = await viewWith(record('a', 'firing', T0), record('b', 'resolved', T0 + SECOND));

    // Act
    const { alerts } = await listAlerts({}, view);

    // Assess
    expect(alerts).toEqual([
      {
        fingerprint: 'b',
        status: 'resolved',
        labels: { alertname: 'HighCPU', host: 'b' },
        at: '2026-03-01T12:00:01.000Z',
      },
      {
        fingerprint: 'a',
        status: 'firing',
        labels: { alertname: 'HighCPU', host: 'a' },
        at: '2026-03-01T12:00:00.000Z',
      },
    ]);
  });

  it.each([
    ['firing', ['c', 'a']],
    ['resolved', ['b']],
  ])('lists only the %s alerts when asked', async (status, expected) => {
    // Prepare
    const view = await viewWith(
      record('a', 'firing', T0),
      record('b', 'resolved', T0 + SECOND),
      record('c', 'firing', T0 + 2 * SECOND),
    );

    // Act
    const { alerts } = await listAlerts({ status }, view);

    // Assess
    expect(alerts.map((a) => a.fingerprint)).toEqual(expected);
  });

  it('refuses an unknown status with a validation error naming it', async () => {
    // Prepare
    const view = await viewWith(record('a', 'firing', T0));

    // Act
    const paths = await validationIssues(listAlerts({ status: 'open' }, view));

    // Assess
    expect(paths).toEqual(['status']);
  });
});
