import { describe, expect, it } from 'vitest';
import {
  buildWebhookMessage,
  sortAlerts,
} from '../../../../functions/shared/domain/alerting/dispatch/webhook';
import { Correlator, firing, MINUTE, resolved, SECOND, T0 } from './harness';

describe('webhook payload', () => {
  it('has exactly Alertmanager version 4 shape, key order and alert order', () => {
    // Prepare
    const c = new Correlator({ receiver: 'team.ops', group_by: ['alertname'] });
    c.send(
      firing({ alertname: 'HighCPU', host: 'web-2', job: 'node' }, T0, {
        annotations: { summary: 'hot', runbook: 'r' },
      }),
    );
    c.send(
      firing({ alertname: 'HighCPU', host: 'web-1', job: 'node' }, T0 + 1_500, {
        annotations: { summary: 'hot' },
      }),
    );
    c.advance(30 * SECOND);
    c.takeNotifications();
    c.send({
      ...resolved({ alertname: 'HighCPU', host: 'web-2', job: 'node' }, T0, T0 + MINUTE),
      annotations: { summary: 'hot', runbook: 'r' },
    });
    // Act
    c.advance(5 * MINUTE);
    const [notification] = c.takeNotifications();
    // Assess
    expect(Object.keys(notification?.message ?? {})).toEqual([
      'receiver',
      'status',
      'alerts',
      'groupLabels',
      'commonLabels',
      'commonAnnotations',
      'externalURL',
      'version',
      'groupKey',
      'truncatedAlerts',
    ]);
    expect(notification?.message).toEqual({
      receiver: 'team\\.ops',
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'HighCPU', host: 'web-1', job: 'node' },
          annotations: { summary: 'hot' },
          startsAt: '2025-03-01T12:00:01.5Z',
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'https://pulseboard.example.com/rules/1',
          fingerprint: notification?.message.alerts[0]?.fingerprint,
        },
        {
          status: 'resolved',
          labels: { alertname: 'HighCPU', host: 'web-2', job: 'node' },
          annotations: { runbook: 'r', summary: 'hot' },
          startsAt: '2025-03-01T12:00:00Z',
          endsAt: '2025-03-01T12:01:00Z',
          generatorURL: 'https://pulseboard.example.com/rules/1',
          fingerprint: notification?.message.alerts[1]?.fingerprint,
        },
      ],
      groupLabels: { alertname: 'HighCPU' },
      commonLabels: { alertname: 'HighCPU', job: 'node' },
      commonAnnotations: { summary: 'hot' },
      externalURL: 'https://pulseboard.example.com',
      version: '4',
      groupKey: '{}:{alertname="HighCPU"}',
      truncatedAlerts: 0,
    });
    expect(Object.keys(notification?.message.alerts[0] ?? {})).toEqual([
      'status',
      'labels',
      'annotations',
      'startsAt',
      'endsAt',
      'generatorURL',
      'fingerprint',
    ]);
    expect(notification?.attributes).toEqual({
      severity: 'none',
      status: 'firing',
      group: '{}:{alertname="HighCPU"}',
      receiver: 'team.ops',
    });
  });

  it('sorts alerts as Alertmanager: by job, then instance (having the label first), then fewer labels, then values', () => {
    // Prepare
    const alerts: { labels: Record<string, string> }[] = [
      { labels: { a: '1', b: '2' } },
      { labels: { a: '2' } },
      { labels: { instance: 'i2', job: 'x' } },
      { labels: { instance: 'i1', job: 'x' } },
      { labels: { job: 'a', z: '1' } },
      { labels: { a: '1' } },
    ];
    // Act
    const sorted = sortAlerts(alerts);
    // Assess
    expect(sorted.map((a) => a.labels)).toEqual([
      { job: 'a', z: '1' },
      { instance: 'i1', job: 'x' },
      { instance: 'i2', job: 'x' },
      { a: '1' },
      { a: '2' },
      { a: '1', b: '2' },
    ]);
  });

  it('truncates to max_alerts and counts the rest, keeping common labels over all alerts', () => {
    // Prepare
    const alert = (host: string) => ({
      status: 'firing' as const,
      fingerprint: host,
      labels: { alertname: 'X', host },
      annotations: {},
      startsAt: T0,
      generatorURL: '',
    });
    // Act
    const message = buildWebhookMessage({
      receiver: 'r',
      groupKey: '{}:{}',
      groupLabels: {},
      alerts: [alert('c'), alert('a'), alert('b')],
      externalURL: '',
      maxAlerts: 2,
    });
    // Assess
    expect(message.alerts.map((a) => a.labels.host)).toEqual(['a', 'b']);
    expect(message.truncatedAlerts).toBe(1);
    expect(message.commonLabels).toEqual({ alertname: 'X' });
  });
});
