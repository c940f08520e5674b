import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlertmanagerConfig } from '../../lib/alertmanager-config';
import type { LocalRuntime } from '../../local/runtime';
import {
  essence,
  type RealAlertmanager,
  type ReceivedNotification,
  startAlertmanager,
} from '../support/alertmanager';
import { postJson, requestJson, waitFor } from '../support/clients';
import { subscribeToNotifications } from '../support/notifications';
import { startTestRuntime } from '../support/runtime';

/**
 * The same timed alert sequences posted to the real Alertmanager (Debian's 0.25) and to Pulseboard,
 * with the same routing; what each notifies is compared: receivers, group keys, which alerts each
 * notification holds and with what status, and the order of notifications per group. Timing is
 * compared within TIMING_TOLERANCE_MS (Pulseboard's wakes are SQS delays, whole seconds).
 */
const TIMING_TOLERANCE_MS = 2_500;
/**
 * One alertmanager.yml for both. The real Alertmanager's receivers post to the test's webhook
 * (plain http on loopback); Pulseboard loads the same file through its loader
 * (`npm run alertmanager -- apply`), and its notifications are read from its SNS topic.
 */
const alertmanagerYml = (webhookUrl: string) => `
route:
  receiver: oncall
  group_by: [alertname]
  group_wait: 1s
  group_interval: 3s
  repeat_interval: 1h
  # Each child route is scoped to one scenario's alerts (label scenario), so the others are untouched.
  routes:
    - matchers: ['scenario="repeat"']
      repeat_interval: 5s
    - matchers: ['scenario="everything"']
      group_by: ['...']
    - matchers: ['scenario="nested"']
      receiver: team
      routes:
        - { matchers: ['service="db"'], receiver: dba, continue: true }
        - { matchers: ['severity="critical"'], receiver: pager }
    - { matchers: ['scenario="muted"'], mute_time_intervals: [always] }
    - { matchers: ['scenario="inactive"'], active_time_intervals: [never] }
time_intervals:
  - name: always
    time_intervals: [{ times: [{ start_time: '00:00', end_time: '24:00' }] }]
  - name: never
    time_intervals: [{ years: ['2001'] }]
# Scoped to the inhibition scenario's alerts, so the other scenarios are untouched.
inhibit_rules:
  - source_matchers: ['scenario="inhibit"', 'severity="critical"']
    target_matchers: ['scenario="inhibit"', 'severity="warning"']
    equal: [cluster]
receivers:
${['oncall', 'team', 'dba', 'pager']
  .map((name) => `  - name: ${name}\n    webhook_configs: [{ url: '${webhookUrl}', send_resolved: true }]`)
  .join('\n')}
`;

describe('Pulseboard against the real Alertmanager', () => {
  let runtime: LocalRuntime;
  let alertmanager: RealAlertmanager;
  let api: string;
  let alertsKey: string;
  let sqs: SQSClient;
  let queueUrl: string;
  const pulseboard: ReceivedNotification[] = [];

  /** Drains the queue subscribed (raw) to Pulseboard's topic into `pulseboard`. */
  const drain = async () => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    for (const message of Messages) {
      pulseboard.push({ at: Date.now(), body: JSON.parse(message.Body ?? '{}') });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  };

  /** Posts the same alerts to both. */
  const post = async (alerts: unknown[]) => {
    const [real, ours] = await Promise.all([
      fetch(`${alertmanager.url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
      }),
      fetch(`${api}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${alertsKey}` },
        body: JSON.stringify(alerts),
      }),
    ]);
    expect([real.status, ours.status]).toEqual([200, 200]);
    return Date.now();
  };

  /** Waits until both sent `count` notifications for groups of these alert names, and returns them. */
  const both = async (names: readonly string[], count: number) => {
    const mine = (list: ReceivedNotification[]) =>
      list.filter((n) => names.includes(n.body.groupLabels.alertname ?? ''));
    await waitFor(
      async () => {
        await drain();
        return mine(alertmanager.notifications).length >= count && mine(pulseboard).length >= count;
      },
      `${count} notification(s) from each`,
      20_000,
    );
    return { real: mine(alertmanager.notifications), ours: mine(pulseboard) };
  };

  /** Notifications per group, in order, reduced to what must match. */
  const byGroup = (list: ReceivedNotification[]) => {
    const groups: Record<string, ReturnType<typeof essence>[]> = {};
    for (const n of list) {
      const group = groups[n.body.groupKey] ?? [];
      group.push(essence(n.body));
      groups[n.body.groupKey] = group;
    }
    return groups;
  };

  beforeAll(async () => {
    alertmanager = await startAlertmanager(alertmanagerYml);
    runtime = await startTestRuntime({ notificationConsole: false });
    api = runtime.urls.HttpApiUrl;
    alertsKey = (await postJson(`${api}/api/api-keys`, { name: 'differential', scope: 'alerts' })).body.key;
    const { routing } = parseAlertmanagerConfig(
      alertmanagerYml('https://hooks.example.invalid/differential'),
    );
    expect((await requestJson(`${api}/api/alert-routing`, 'PUT', routing)).status).toBe(200);
    ({ sqs, queueUrl } = await subscribeToNotifications(runtime.engines.sns, {
      name: 'differential',
      raw: true,
    }));
    // Warm several correlator environments first: alerts of one POST reach the correlator as
    // separate events, and a cold start slower than group_wait would split a group's first
    // notification (docs/alertmanager-compat.md); the comparison is about semantics, not cold starts.
    const warm = name('WarmUp');
    await post(['a', 'b', 'c', 'd'].map((instance) => ({ labels: { alertname: `${warm}_${instance}` } })));
    await both(
      ['a', 'b', 'c', 'd'].map((instance) => `${warm}_${instance}`),
      4,
    );
  });

  afterAll(async () => {
    sqs?.destroy();
    await runtime?.stop();
    await alertmanager?.stop();
  });

  const name = (what: string) => `${what}_${randomUUID().slice(0, 6)}`;

  it('groups by labels: alerts arriving within group_wait go out together, one notification per group', async () => {
    const [x, y] = [name('GroupX'), name('GroupY')];
    const sent = await post([
      { labels: { alertname: x, instance: 'a' } },
      { labels: { alertname: x, instance: 'b' } },
      { labels: { alertname: y, instance: 'a' } },
    ]);
    const { real, ours } = await both([x, y], 2);
    expect(byGroup(ours)).toEqual(byGroup(real));
    for (const group of [x, y]) {
      const first = (list: ReceivedNotification[]) =>
        (list.find((n) => n.body.groupLabels.alertname === group)?.at ?? 0) - sent;
      expect(Math.abs(first(ours) - first(real))).toBeLessThan(TIMING_TOLERANCE_MS);
    }
  });

  it('batches a late joiner into the next group_interval flush', async () => {
    const group = name('LateJoiner');
    await post([{ labels: { alertname: group, instance: 'a' } }]);
    await both([group], 1);
    await post([
      { labels: { alertname: group, instance: 'a' } },
      { labels: { alertname: group, instance: 'b' } },
    ]);
    const { real, ours } = await both([group], 2);
    expect(byGroup(ours)).toEqual(byGroup(real));
  });

  it('notifies the resolution when the sender ends the alert', async () => {
    const group = name('Resolved');
    const startsAt = new Date(Date.now() - 10_000).toISOString();
    await post([{ labels: { alertname: group, instance: 'a' }, startsAt }]);
    await both([group], 1);
    await post([
      {
        labels: { alertname: group, instance: 'a' },
        startsAt,
        endsAt: new Date(Date.now() - 1000).toISOString(),
      },
    ]);
    const { real, ours } = await both([group], 2);
    expect(byGroup(ours)).toEqual(byGroup(real));
    expect(ours.at(-1)?.body.status).toBe('resolved');
  });

  it('opens a new episode when an alert fires again after its resolution', async () => {
    const group = name('Refire');
    const labels = { alertname: group, instance: 'a' };
    const first = new Date(Date.now() - 10_000).toISOString();
    await post([{ labels, startsAt: first }]);
    await both([group], 1);
    await post([{ labels, startsAt: first, endsAt: new Date(Date.now() - 500).toISOString() }]);
    await both([group], 2);
    await post([{ labels, startsAt: new Date().toISOString() }]);
    const { real, ours } = await both([group], 3);
    expect(byGroup(ours)).toEqual(byGroup(real));
    expect(ours.map((n) => n.body.status)).toEqual(['firing', 'resolved', 'firing']);
  });

  it('inhibits a warning while a critical alert with the same cluster fires, and only that one', async () => {
    const [down, slow] = [name('InhibitDown'), name('InhibitSlow')];
    await post([{ labels: { alertname: down, scenario: 'inhibit', severity: 'critical', cluster: 'eu' } }]);
    await both([down], 1);
    await post([
      { labels: { alertname: slow, scenario: 'inhibit', severity: 'warning', cluster: 'eu' } },
      { labels: { alertname: slow, scenario: 'inhibit', severity: 'warning', cluster: 'us' } },
    ]);
    const { real, ours } = await both([down, slow], 2);
    expect(byGroup(ours)).toEqual(byGroup(real));
    const warned = ours.find((n) => n.body.groupLabels.alertname === slow);
    expect(warned?.body.alerts.map((a) => a.labels.cluster)).toEqual(['us']);
  });

  it('repeats an unchanged group after repeat_interval, at the next group_interval flush', async () => {
    const group = name('Repeat');
    const labels = { alertname: group, scenario: 'repeat', instance: 'a' };
    await post([{ labels }]);
    const { real, ours } = await both([group], 3);
    await post([{ labels, endsAt: new Date(Date.now() - 1000).toISOString() }]);
    expect(byGroup(ours.slice(0, 3))).toEqual(byGroup(real.slice(0, 3)));
    expect(ours.slice(0, 3).map((n) => n.body.status)).toEqual(['firing', 'firing', 'firing']);
    // The repeat cadence: repeat_interval 5s rounded up to the group_interval (3s) flushes, so 6s.
    const gap = (list: ReceivedNotification[], i: number) => (list[i]?.at ?? 0) - (list[i - 1]?.at ?? 0);
    for (const i of [1, 2]) expect(Math.abs(gap(ours, i) - gap(real, i))).toBeLessThan(TIMING_TOLERANCE_MS);
  });

  it('groups by every label with group_by: [...]', async () => {
    const group = name('Everything');
    await post([
      { labels: { alertname: group, scenario: 'everything', instance: 'a' } },
      { labels: { alertname: group, scenario: 'everything', instance: 'b' } },
      { labels: { alertname: group, scenario: 'everything', instance: 'b', extra: 'x' } },
    ]);
    const { real, ours } = await both([group], 3);
    expect(byGroup(ours)).toEqual(byGroup(real));
    expect(ours.map((n) => n.body.groupLabels.instance).sort()).toEqual(['a', 'b', 'b']);
  });

  it('follows nested routes, continuing past a matching route only where it says continue', async () => {
    const group = name('Nested');
    const alert = (labels: Record<string, string>) => ({
      labels: { alertname: group, scenario: 'nested', ...labels },
    });
    await post([
      alert({ instance: 'both', service: 'db', severity: 'critical' }), // dba (continue), then pager
      alert({ instance: 'dba-only', service: 'db' }),
      alert({ instance: 'pager-only', severity: 'critical' }),
      alert({ instance: 'team', service: 'web' }), // no child matches: the parent's receiver
    ]);
    const { real, ours } = await both([group], 3);
    expect(byGroup(ours)).toEqual(byGroup(real));
    const receivers = Object.fromEntries(
      ours.map((n) => [n.body.receiver, n.body.alerts.map((a) => a.labels.instance).sort()]),
    );
    expect(receivers).toEqual({ dba: ['both', 'dba-only'], pager: ['both', 'pager-only'], team: ['team'] });
  });

  it('leaves a silenced alert out while the silence lasts, and brings it back once it is expired', async () => {
    const group = name('Silenced');
    const a = { labels: { alertname: group, instance: 'a' } };
    const b = { labels: { alertname: group, instance: 'b' } };
    await post([a]);
    await both([group], 1);
    const silence = {
      matchers: [
        { name: 'alertname', value: group, isRegex: false, isEqual: true },
        { name: 'instance', value: 'a', isRegex: false, isEqual: true },
      ],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'differential',
      comment: 'mid-stream',
    };
    const realSilence = await fetch(`${alertmanager.url}/api/v2/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(silence),
    });
    const ourSilence = await requestJson(`${api}/api/v2/silences`, 'POST', silence);
    expect([realSilence.status, ourSilence.status]).toEqual([200, 200]);
    const realId = ((await realSilence.json()) as { silenceID: string }).silenceID;
    // b joins while a is silenced: the next notification holds b alone.
    await post([a, b]);
    await both([group], 2);
    const [realExpired, ourExpired] = await Promise.all([
      fetch(`${alertmanager.url}/api/v2/silence/${realId}`, { method: 'DELETE' }),
      requestJson(`${api}/api/v2/silence/${ourSilence.body.silenceID}`, 'DELETE'),
    ]);
    expect([realExpired.status, ourExpired.status]).toEqual([200, 200]);
    await post([a, b]);
    const { real, ours } = await both([group], 3);
    expect(byGroup(ours)).toEqual(byGroup(real));
    expect(ours.map((n) => n.body.alerts.map((x) => x.labels.instance).sort())).toEqual([
      ['a'],
      ['b'],
      ['a', 'b'],
    ]);
  });

  it('holds notifications while a mute time interval is active, or no active time interval is', async () => {
    const [muted, inactive, control] = [name('Muted'), name('Inactive'), name('TimeControl')];
    await post([
      { labels: { alertname: muted, scenario: 'muted' } },
      { labels: { alertname: inactive, scenario: 'inactive' } },
      { labels: { alertname: control } },
    ]);
    await both([control], 1);
    // Two more group_interval flushes (3 s each) for the held groups: still nothing from either.
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    await drain();
    const held = (list: ReceivedNotification[]) =>
      list.filter((n) => [muted, inactive].includes(n.body.groupLabels.alertname ?? ''));
    expect(held(alertmanager.notifications)).toEqual([]);
    expect(held(pulseboard)).toEqual([]);
  });
});
