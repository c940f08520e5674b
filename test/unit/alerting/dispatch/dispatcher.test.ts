import { describe, expect, it } from 'vitest';
import { parseRouteTree } from '../../../../functions/shared/domain/alerting/dispatch/route';
import { Correlator, firing, HOUR, MINUTE, resolved, SECOND, summary, T0 } from './harness';

const ROUTES = {
  receiver: 'default',
  group_by: ['alertname'],
  group_wait: '30s',
  group_interval: '5m',
  repeat_interval: '4h',
};
const GROUP = '{}:{alertname="HighCPU"}|default';
const web1 = { alertname: 'HighCPU', host: 'web-1', severity: 'warning' };
const web2 = { alertname: 'HighCPU', host: 'web-2', severity: 'critical' };

describe('grouping windows', () => {
  it('batches the alerts that arrive within group_wait into one notification', () => {
    // Prepare
    const c = new Correlator(ROUTES);
    c.send(firing(web1, c.now));
    c.advance(10 * SECOND);
    c.send(firing(web2, c.now));
    // Act
    c.advance(19 * SECOND);
    const beforeWait = c.takeNotifications();
    c.advance(1 * SECOND);
    const sent = c.takeNotifications();
    // Assess
    expect(beforeWait).toEqual([]);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.message.alerts.map((a) => a.labels.host)).toEqual(['web-1', 'web-2']);
    expect(sent[0]?.attributes).toEqual({
      severity: 'critical',
      status: 'firing',
      group: '{}:{alertname="HighCPU"}',
      receiver: 'default',
    });
  });

  it('holds an alert joining after the first flush until group_interval has passed', () => {
    // Prepare
    const c = new Correlator(ROUTES);
    c.send(firing(web1, c.now));
    c.advance(30 * SECOND);
    c.takeNotifications();
    // Act
    c.advance(30 * SECOND);
    c.send(firing(web2, c.now));
    c.advance(4 * MINUTE + 29 * SECOND);
    const early = c.takeNotifications();
    c.advance(1 * SECOND);
    const sent = c.takeNotifications();
    // Assess
    expect(early).toEqual([]);
    expect(sent.map((n) => summary(n, 'host'))).toEqual([['web-1:firing', 'web-2:firing']]);
  });

  it("groups by every label with group_by ['...']: one group per label set", () => {
    // Prepare
    const c = new Correlator({ ...ROUTES, group_by: ['...'] });
    // Act
    c.send(firing(web1, c.now));
    c.send(firing(web2, c.now));
    c.advance(30 * SECOND);
    // Assess
    expect(c.groupIds().sort()).toEqual([
      '{}:{alertname="HighCPU", host="web-1", severity="warning"}|default',
      '{}:{alertname="HighCPU", host="web-2", severity="critical"}|default',
    ]);
    expect(c.takeNotifications().map((n) => n.message.groupLabels.host)).toEqual(['web-1', 'web-2']);
  });

  it('flushes at once a new group whose alert started more than group_wait ago, as Alertmanager', () => {
    // Prepare
    const c = new Correlator(ROUTES);
    // Act
    c.send(firing(web1, c.now - 2 * MINUTE));
    // Assess
    expect(c.takeNotifications()).toHaveLength(1);
    expect(c.pendingWakes()).toEqual([{ groupId: GROUP, at: T0 + 5 * MINUTE }]);
  });
});

describe('deduplication and repeats', () => {
  it('sends nothing more when an alert is re-sent unchanged', () => {
    // Prepare
    const c = new Correlator(ROUTES);
    c.send(firing(web1, c.now));
    c.advance(30 * SECOND);
    c.takeNotifications();
    const revision = c.state(GROUP).revision;
    // Act
    c.send(firing(web1, T0));
    c.advance(MINUTE);
    c.send(firing(web1, T0));
    c.advance(10 * MINUTE);
    // Assess
    expect(c.takeNotifications()).toEqual([]);
    expect(c.state(GROUP).revision).toBeGreaterThanOrEqual(revision);
    expect(Object.keys(c.state(GROUP).alerts)).toHaveLength(1);
  });

  it('re-notifies an unchanged group only after repeat_interval, at the next flush', () => {
    // Prepare
    const c = new Correlator(ROUTES);
    c.send(firing(web1, c.now));
    c.advance(30 * SECOND);
    c.takeNotifications();
    // Act
    c.advance(4 * HOUR);
    const withinRepeat = c.takeNotifications();
    c.advance(5 * MINUTE);
    const repeated = c.takeNotifications();
    // Assess
    expect(withinRepeat).toEqual([]);
    expect(repeated.map((n) => summary(n, 'host'))).toEqual([['web-1:firing']]);
  });
});

describe('inhibition', () => {
  const INHIBIT = [
    { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['cluster'] },
  ];

  it('mutes a warning while a critical alert with the same cluster fires, but not one in another cluster', () => {
    // Prepare
    const c = new Correlator({ ...ROUTES, group_by: ['alertname', 'cluster'] }, INHIBIT);
    c.send(firing({ alertname: 'NodeDown', cluster: 'a', severity: 'critical' }, c.now));
    // Act
    c.send(firing({ alertname: 'HighLatency', cluster: 'a', severity: 'warning' }, c.now));
    c.send(firing({ alertname: 'HighLatency', cluster: 'b', severity: 'warning' }, c.now));
    c.advance(30 * SECOND);
    // Assess
    expect(
      c.takeNotifications().map((n) => `${n.message.groupLabels.alertname}/${n.message.groupLabels.cluster}`),
    ).toEqual(['NodeDown/a', 'HighLatency/b']);
  });

  it('lets the muted warning notify once the inhibiting alert resolves', () => {
    // Prepare
    const c = new Correlator({ ...ROUTES, group_by: ['alertname', 'cluster'] }, INHIBIT);
    const critical = { alertname: 'NodeDown', cluster: 'a', severity: 'critical' };
    c.send(firing(critical, c.now));
    c.send(firing({ alertname: 'HighLatency', cluster: 'a', severity: 'warning' }, c.now));
    c.advance(30 * SECOND);
    c.takeNotifications();
    // Act
    c.send(resolved(critical, T0, c.now));
    c.advance(5 * MINUTE);
    // Assess
    expect(
      c.takeNotifications().map((n) => `${n.message.groupLabels.alertname}:${n.message.status}`),
    ).toEqual(['NodeDown:resolved', 'HighLatency:firing']);
  });

  it('does not let an alert matching both sides of a rule inhibit itself', () => {
    // Prepare
    const rules = [{ source_matchers: ['team="db"'], target_matchers: ['team="db"'], equal: ['cluster'] }];
    const c = new Correlator(ROUTES, rules);
    // Act
    c.send(firing({ alertname: 'HighCPU', team: 'db', cluster: 'a' }, c.now));
    c.advance(30 * SECOND);
    // Assess
    expect(c.takeNotifications()).toHaveLength(1);
  });
});

describe('silences', () => {
  it('mutes an alert a silence created mid-stream matches, and notifies it at the first flush after the silence expires', () => {
    // Prepare
    const c = new Correlator(ROUTES);
    c.send(firing(web1, c.now));
    c.advance(30 * SECOND);
    c.takeNotifications();
    c.silences = [
      {
        id: 'sil-1',
        matchers: [{ name: 'host', value: 'web-2', isRegex: false, isEqual: true }],
        startsAt: c.now,
        endsAt: c.now + 20 * MINUTE,
        createdBy: 'ana',
        comment: 'maintenance',
      },
    ];
    // Act
    c.send(firing(web2, c.now));
    c.advance(15 * MINUTE);
    const whileSilenced = c.takeNotifications();
    c.advance(10 * MINUTE);
    const afterExpiry = c.takeNotifications();
    // Assess
    expect(whileSilenced).toEqual([]);
    expect(afterExpiry.map((n) => summary(n, 'host'))).toEqual([['web-1:firing', 'web-2:firing']]);
  });
});

describe('time intervals', () => {
  // T0 is 12:00 UTC on Saturday 2025-03-01.
  const INTERVALS = [
    { name: 'lunch', time_intervals: [{ times: [{ start_time: '12:00', end_time: '12:10' }] }] },
    { name: 'afternoon', time_intervals: [{ times: [{ start_time: '12:03', end_time: '12:20' }] }] },
  ];
  const routed = (extra: Record<string, unknown>) => ({
    ...ROUTES,
    routes: [{ matchers: ['alertname="HighCPU"'], ...extra }],
  });
  const ROUTED_GROUP = '{}/{alertname="HighCPU"}:{alertname="HighCPU"}|default';

  it('sends nothing while the mute interval is active, logs nothing, and notifies at the first flush after it ends', () => {
    // Prepare
    const c = new Correlator(routed({ mute_time_intervals: ['lunch'] }), [], INTERVALS);
    c.send(firing(web1, c.now));
    // Act
    c.advance(30 * SECOND);
    const firstFlush = c.takeNotifications();
    const afterFirstFlush = c.state(ROUTED_GROUP);
    c.advance(6 * MINUTE + 30 * SECOND);
    c.send(firing(web2, c.now));
    c.advance(3 * MINUTE);
    const duringMute = c.takeNotifications();
    c.advance(30 * SECOND);
    const afterMute = c.takeNotifications();
    // Assess: flushes at 12:00:30 and 12:05:30 are muted; 12:10:30 is the first after 12:10.
    expect(firstFlush).toEqual([]);
    expect(afterFirstFlush).toMatchObject({ hasFlushed: true, lastNotification: null, incident: null });
    expect(afterFirstFlush.nextFlushAt).toBe(T0 + 30 * SECOND + 5 * MINUTE);
    expect(duringMute).toEqual([]);
    expect(afterMute.map((n) => summary(n, 'host'))).toEqual([['web-1:firing', 'web-2:firing']]);
    expect(c.state(ROUTED_GROUP).lastNotification?.at).toBe(T0 + 10 * MINUTE + 30 * SECOND);
    expect(c.state(ROUTED_GROUP).incident?.status).toBe('open');
  });

  it('drops a resolution that falls inside the mute interval, as Alertmanager: no resolved notification ever follows', () => {
    // Prepare: notified at 12:00:30, before the 12:03-12:20 mute.
    const c = new Correlator(routed({ mute_time_intervals: ['afternoon'] }), [], INTERVALS);
    c.send(firing(web1, c.now));
    c.advance(30 * SECOND);
    const notified = c.takeNotifications();
    // Act
    c.advance(3 * MINUTE + 30 * SECOND);
    c.send(resolved(web1, T0, c.now));
    c.advance(HOUR);
    // Assess: the 12:05:30 flush deleted the resolved alert unsent; the log keeps the firing entry.
    expect(notified.map((n) => summary(n, 'host'))).toEqual([['web-1:firing']]);
    expect(c.takeNotifications()).toEqual([]);
    expect(c.state(ROUTED_GROUP)).toMatchObject({
      alerts: {},
      nextFlushAt: null,
      lastNotification: { firing: [expect.any(String)], resolved: [], at: T0 + 30 * SECOND },
    });
    expect(c.state(ROUTED_GROUP).incident?.status).toBe('resolved');
  });

  it('notifies only while an active interval is active: held before it starts, sent at the first flush inside it', () => {
    // Prepare
    const c = new Correlator(routed({ active_time_intervals: ['afternoon'] }), [], INTERVALS);
    c.send(firing(web1, c.now));
    // Act
    c.advance(5 * MINUTE);
    const before = c.takeNotifications();
    c.advance(30 * SECOND);
    const inside = c.takeNotifications();
    // Assess: 12:00:30 is before 12:03; 12:05:30 is inside.
    expect(before).toEqual([]);
    expect(inside.map((n) => summary(n, 'host'))).toEqual([['web-1:firing']]);
  });

  it("does not hold a child route's notifications for its parent's intervals: they are not inherited", () => {
    // Prepare
    const c = new Correlator(
      routed({ mute_time_intervals: ['lunch'], routes: [{ matchers: ['host="web-1"'], receiver: 'web' }] }),
      [],
      INTERVALS,
    );
    // Act
    c.send(firing(web1, c.now));
    c.send(firing(web2, c.now));
    c.advance(30 * SECOND);
    // Assess
    expect(c.takeNotifications().map((n) => `${n.receiver}:${summary(n, 'host').join(',')}`)).toEqual([
      'web:web-1:firing',
    ]);
  });

  it('keeps the stored route settings as before for routes naming none, and mutes a stored group once its route names one', () => {
    // Prepare: a group stored while its route named no interval.
    const c = new Correlator(routed({}), [], INTERVALS);
    c.send(firing(web1, c.now));
    c.advance(30 * SECOND);
    const notified = c.takeNotifications();
    const storedRoute = c.state(ROUTED_GROUP).route;
    // Act: the configuration now mutes the route from 12:03 to 12:20.
    c.routes = parseRouteTree(routed({ mute_time_intervals: ['afternoon'] }), new Set(['afternoon']));
    c.advance(2 * MINUTE);
    c.send(firing(web2, c.now));
    c.advance(15 * MINUTE);
    const duringMute = c.takeNotifications();
    c.advance(5 * MINUTE);
    // Assess
    expect(notified).toHaveLength(1);
    expect(Object.keys(storedRoute).sort()).toEqual([
      'flap',
      'groupBy',
      'groupIntervalMs',
      'groupWaitMs',
      'receiver',
      'repeatIntervalMs',
    ]);
    expect(c.state(ROUTED_GROUP).route.muteTimeIntervals).toEqual(['afternoon']);
    expect(duringMute).toEqual([]);
    expect(c.takeNotifications().map((n) => summary(n, 'host'))).toEqual([['web-1:firing', 'web-2:firing']]);
  });
});

describe('flapping', () => {
  it('stops notifying an alert that changed status more than 4 times in 30 minutes, then reports its state once it is stable for 10 minutes', () => {
    // Prepare
    const c = new Correlator({ ...ROUTES, group_interval: '1m' });
    let startsAt = c.now;
    c.send(firing(web1, startsAt));
    c.advance(MINUTE);
    for (let i = 0; i < 2; i++) {
      c.send(resolved(web1, startsAt, c.now));
      c.advance(MINUTE);
      startsAt = c.now;
      c.send(firing(web1, startsAt));
      c.advance(MINUTE);
    }
    const beforeFlapping = c.takeNotifications();
    // Act: the fifth change makes it flap; the sixth and seventh follow while it flaps.
    c.send(resolved(web1, startsAt, c.now));
    c.advance(MINUTE);
    startsAt = c.now;
    c.send(firing(web1, startsAt));
    c.advance(MINUTE);
    c.send(resolved(web1, startsAt, c.now));
    const flappingSince = Object.values(c.state(GROUP).history)[0]?.flappingSince;
    c.advance(9 * MINUTE + 59 * SECOND);
    const whileFlapping = c.takeNotifications();
    c.advance(MINUTE);
    const afterStable = c.takeNotifications();
    // Assess
    expect(beforeFlapping.map((n) => n.message.status)).toEqual([
      'firing',
      'resolved',
      'firing',
      'resolved',
      'firing',
    ]);
    expect(flappingSince).toBeDefined();
    expect(whileFlapping).toEqual([]);
    expect(afterStable.map((n) => summary(n, 'host'))).toEqual([['web-1:resolved']]);
  });
});

describe('incidents', () => {
  it('opens an incident with the first notification and records the alerts and the notification on its timeline', () => {
    // Prepare
    const c = new Correlator(ROUTES);
    c.send(firing(web1, c.now, { value: 93.5 }));
    // Act
    c.advance(30 * SECOND);
    // Assess
    const [notification] = c.takeNotifications();
    const incident = c.incidents.get(notification?.incidentId ?? '');
    expect(incident).toMatchObject({
      status: 'open',
      openedAt: T0 + 30 * SECOND,
      groupKey: '{}:{alertname="HighCPU"}',
    });
    expect(incident?.timeline).toEqual([
      {
        type: 'alert_joined',
        at: T0 + 30 * SECOND,
        fingerprint: notification?.message.alerts[0]?.fingerprint,
        labels: web1,
        value: 93.5,
      },
      {
        type: 'notification_sent',
        at: T0 + 30 * SECOND,
        notificationId: notification?.id,
        status: 'firing',
        firing: 1,
        resolved: 0,
        messageId: null,
      },
    ]);
  });

  it('stops repeat notifications once acknowledged, but still notifies a new alert joining and the resolution', () => {
    // Prepare
    const c = new Correlator(ROUTES);
    c.send(firing(web1, c.now));
    c.advance(30 * SECOND);
    const [first] = c.takeNotifications();
    // Act
    c.ack(first?.incidentId ?? '', 'ana');
    c.advance(5 * HOUR);
    const repeats = c.takeNotifications();
    c.send(firing(web2, c.now));
    c.advance(5 * MINUTE);
    const joined = c.takeNotifications();
    c.send(resolved(web1, T0, c.now));
    c.send(resolved(web2, T0, c.now));
    c.advance(5 * MINUTE);
    const resolution = c.takeNotifications();
    // Assess
    expect(repeats).toEqual([]);
    expect(joined.map((n) => summary(n, 'host'))).toEqual([['web-1:firing', 'web-2:firing']]);
    expect(resolution.map((n) => n.message.status)).toEqual(['resolved']);
    const incident = c.incidents.get(first?.incidentId ?? '');
    expect(incident).toMatchObject({ status: 'resolved', acknowledgedBy: 'ana', resolvedBy: null });
  });

  it('resolves the incident automatically with a resolved notification when all its alerts resolve, and then forgets the group', () => {
    // Prepare
    const c = new Correlator(ROUTES);
    c.send(firing(web1, c.now));
    c.send(firing(web2, c.now));
    c.advance(30 * SECOND);
    const [first] = c.takeNotifications();
    // Act
    c.send(resolved(web1, T0, c.now));
    c.advance(5 * MINUTE);
    const partial = c.takeNotifications();
    const openAfterPartial = c.incidents.get(first?.incidentId ?? '')?.status;
    c.send(resolved(web2, T0, c.now));
    c.advance(5 * MINUTE);
    const final = c.takeNotifications();
    c.advance(HOUR);
    // Assess
    expect(partial.map((n) => summary(n, 'host'))).toEqual([['web-1:resolved', 'web-2:firing']]);
    expect(openAfterPartial).toBe('open');
    expect(final.map((n) => [n.message.status, ...summary(n, 'host')])).toEqual([
      ['resolved', 'web-2:resolved'],
    ]);
    expect(c.incidents.get(first?.incidentId ?? '')?.timeline.map((e) => e.type)).toEqual([
      'alert_joined',
      'alert_joined',
      'notification_sent',
      'alert_resolved',
      'notification_sent',
      'alert_resolved',
      'notification_sent',
      'resolved',
    ]);
    expect(c.state(GROUP)).toMatchObject({ alerts: {}, nextFlushAt: null });
    expect(c.takeNotifications()).toEqual([]);
  });

  it('opens a new incident when the group fires again after its incident resolved', () => {
    // Prepare
    const c = new Correlator(ROUTES);
    c.send(firing(web1, c.now));
    c.advance(30 * SECOND);
    c.send(resolved(web1, T0, c.now));
    c.advance(5 * MINUTE);
    const [opened, closed] = c.takeNotifications();
    // Act
    c.advance(10 * MINUTE);
    c.send(firing(web1, c.now));
    c.advance(30 * SECOND);
    const [refired] = c.takeNotifications();
    // Assess
    expect(opened?.incidentId).toBe(closed?.incidentId);
    expect(refired?.incidentId).not.toBe(opened?.incidentId);
    expect(c.incidents.get(refired?.incidentId ?? '')?.status).toBe('open');
    expect(c.incidents.get(opened?.incidentId ?? '')?.status).toBe('resolved');
  });
});

describe('routing', () => {
  it('notifies an alert through two receivers when the first matching route has continue', () => {
    // Prepare
    const c = new Correlator({
      ...ROUTES,
      routes: [
        { matchers: ['team="db"'], receiver: 'db-team', continue: true },
        { matchers: ['severity=~"critical|page"'], receiver: 'pager' },
        { matchers: ['team="db"'], receiver: 'never' },
      ],
    });
    // Act
    c.send(firing({ alertname: 'DiskFull', team: 'db', severity: 'critical' }, c.now));
    c.advance(30 * SECOND);
    // Assess
    expect(c.takeNotifications().map((n) => [n.receiver, n.message.groupKey])).toEqual([
      ['db-team', '{}/{team="db"}:{alertname="DiskFull"}'],
      ['pager', '{}/{severity=~"critical|page"}:{alertname="DiskFull"}'],
    ]);
  });
});

describe('at-least-once delivery', () => {
  it('ignores a firing that arrives after the resolution that ended it', () => {
    // Prepare
    const c = new Correlator(ROUTES);
    c.send(resolved(web1, T0, T0 + MINUTE));
    // Act
    c.send(firing(web1, T0));
    c.advance(HOUR);
    // Assess
    expect(c.takeNotifications()).toEqual([]);
    expect(c.state(GROUP).alerts).toEqual({});
  });

  it('ignores an older resolution arriving after the alert fired again', () => {
    // Prepare
    const c = new Correlator(ROUTES);
    c.send(firing(web1, T0 + 2 * MINUTE));
    // Act
    c.send(resolved(web1, T0, T0 + MINUTE));
    c.advance(30 * SECOND);
    // Assess
    expect(c.takeNotifications().map((n) => summary(n, 'host'))).toEqual([['web-1:firing']]);
  });

  it('treats a duplicate event as no change at all', () => {
    // Prepare
    const c = new Correlator(ROUTES);
    c.send(firing(web1, c.now));
    const before = c.state(GROUP);
    // Act
    c.send(firing(web1, T0));
    // Assess
    expect(c.state(GROUP)).toBe(before);
    expect(c.pendingWakes()).toHaveLength(1);
  });

  it('makes an early wake and a duplicate wake harmless', () => {
    // Prepare
    const c = new Correlator(ROUTES);
    c.send(firing(web1, c.now));
    c.advance(10 * SECOND);
    // Act
    c.wake(GROUP);
    const afterEarly = c.takeNotifications();
    c.advance(20 * SECOND);
    const atDue = c.takeNotifications();
    c.wake(GROUP);
    c.wake(GROUP);
    const afterDuplicates = c.takeNotifications();
    // Assess
    expect(afterEarly).toEqual([]);
    expect(atDue).toHaveLength(1);
    expect(afterDuplicates).toEqual([]);
    expect(c.state(GROUP).nextFlushAt).toBe(T0 + 30 * SECOND + 5 * MINUTE);
  });
});
