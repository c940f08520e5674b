import { describe, expect, it } from 'vitest';
import {
  listAlertGroupsV2,
  listAlertsV2,
  parseAlertQuery,
} from '../../../../functions/alertmanager-api/am-alerts';
import { RoutingSource } from '../../../../functions/shared/alerting/routing';
import { ValidationError } from '../../../../functions/shared/errors';
import {
  MemoryAlertsView,
  MemoryRoutingStore,
  MemorySilenceStore,
} from '../../alerting/service/memory-ports';

const T0 = Date.parse('2026-03-01T12:00:00Z');

async function setup() {
  const alerts = new MemoryAlertsView();
  const silences = new MemorySilenceStore();
  const routing = new RoutingSource(new MemoryRoutingStore(), {
    route: {
      receiver: 'default',
      group_by: ['alertname'],
      // continue: the next sibling is tried too, so team=db with severity critical reaches both.
      routes: [
        { matchers: ['team="db"'], receiver: 'dba', continue: true },
        { matchers: ['severity="critical"'], receiver: 'pager' },
      ],
    },
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ['cluster'],
      },
    ],
  });
  const put = (
    fingerprint: string,
    labels: Record<string, string>,
    status: 'firing' | 'resolved' = 'firing',
  ) =>
    alerts.put({
      fingerprint,
      labels,
      status,
      at: T0,
      annotations: { summary: fingerprint },
      startsAt: T0 - 60_000,
      generatorURL: '',
    });
  await put('a1', { alertname: 'Down', severity: 'critical', cluster: 'eu', team: 'db' });
  await put('b2', { alertname: 'Slow', severity: 'warning', cluster: 'eu' });
  await put('c3', { alertname: 'Slow', severity: 'warning', cluster: 'us' });
  await put('d4', { alertname: 'Gone', severity: 'info' }, 'resolved');
  silences.silences = [
    {
      id: 's-1',
      matchers: [{ name: 'cluster', value: 'us', isRegex: false, isEqual: true }],
      startsAt: T0 - 1000,
      endsAt: T0 + 3_600_000,
      createdBy: 'amtool',
      comment: 'maintenance',
      updatedAt: T0 - 1000,
    },
  ] as never;
  return { alerts, silences, routing, clock: () => T0 };
}

describe('GET /api/v2/alerts', () => {
  it('lists firing alerts with their receivers and who silences or inhibits them', async () => {
    const listed = await listAlertsV2('', await setup());
    expect(
      listed.map((a) => [
        a.fingerprint,
        a.status.state,
        a.status.inhibitedBy,
        a.status.silencedBy,
        a.receivers.map((r) => r.name),
      ]),
    ).toEqual([
      ['a1', 'active', [], [], ['dba', 'pager']],
      ['b2', 'suppressed', ['a1'], [], ['default']],
      ['c3', 'suppressed', [], ['s-1'], ['default']],
    ]);
    expect(listed[0]).toMatchObject({
      annotations: { summary: 'a1' },
      startsAt: new Date(T0 - 60_000).toISOString(),
    });
  });

  it('filters by matchers, by state and by receiver, as Alertmanager does', async () => {
    const deps = await setup();
    const fps = async (query: string) => (await listAlertsV2(query, deps)).map((a) => a.fingerprint);
    expect(await fps('filter=alertname%3D%22Slow%22')).toEqual(['b2', 'c3']);
    expect(await fps('filter=alertname%3D%22Slow%22&filter=cluster%3D%22us%22')).toEqual(['c3']);
    expect(await fps('silenced=false&inhibited=false')).toEqual(['a1']);
    expect(await fps('active=false')).toEqual(['b2', 'c3']);
    expect(await fps('receiver=dba')).toEqual(['a1']);
  });

  it('refuses unknown parameters, bad matchers, non-boolean flags and dangerous regexes', () => {
    for (const query of ['colour=red', 'filter=%3D%3D', 'active=yes', 'receiver=(a%2B)%2B', 'receiver=(']) {
      expect(() => parseAlertQuery(query), query).toThrow(ValidationError);
    }
  });
});

describe('GET /api/v2/alerts/groups', () => {
  it('groups the alerts by route and group labels, once per receiver', async () => {
    const groups = await listAlertGroupsV2('', await setup());
    expect(groups.map((g) => [g.receiver.name, g.labels, g.alerts.map((a) => a.fingerprint)])).toEqual(
      expect.arrayContaining([
        ['pager', { alertname: 'Down' }, ['a1']],
        ['dba', { alertname: 'Down' }, ['a1']],
        ['default', { alertname: 'Slow' }, ['b2', 'c3']],
      ]),
    );
    expect(groups).toHaveLength(3);
  });
});
