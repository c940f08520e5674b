import { InternalErrorException, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { notificationSubject, SnsNotifier } from '../../../../functions/shared/adapters/sns-notifier';
import type { Notification } from '../../../../functions/shared/domain/alerting/dispatch/group';
import type { RouteConfig } from '../../../../functions/shared/domain/alerting/dispatch/route';
import { Correlator, firing, MINUTE, resolved, T0 } from '../dispatch/harness';

const sns = mockClient(SNSClient);
const client = new SNSClient({ region: 'us-east-1' });
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:pulseboard-alerts';
const ROUTES: RouteConfig = { receiver: 'pager', group_by: ['alertname', 'host'], group_wait: '0s' };

afterEach(() => sns.reset());

/** The notifications the dispatcher sends for these alerts, all firing at T0, through one route. */
function notifications(alerts: Record<string, string>[], routes: RouteConfig = ROUTES): Notification[] {
  const correlator = new Correlator(routes);
  for (const labels of alerts) correlator.send(firing(labels, T0));
  return correlator.takeNotifications();
}

/** A notification whose group labels are exactly these (order kept), with `firing` alerts firing. */
function withGroupLabels(
  groupLabels: Record<string, string>,
  firingCount = 1,
  status: 'firing' | 'resolved' = 'firing',
): Notification {
  const [base] = notifications([{ alertname: 'HighCPU', host: 'web-1' }]);
  if (!base) throw new Error('the dispatcher sent nothing');
  const [alert] = base.message.alerts;
  if (!alert) throw new Error('the notification has no alert');
  const alerts = Array.from({ length: Math.max(firingCount, 1) }, (_, n) => ({
    ...alert,
    fingerprint: `${n}`,
    status: n < firingCount ? alert.status : ('resolved' as const),
  }));
  return { ...base, message: { ...base.message, status, groupLabels, alerts } };
}

describe('SnsNotifier', () => {
  it('publishes the webhook message as the body with filterable String attributes and answers the MessageId', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'sns-1' });
    const notifier = new SnsNotifier(client, TOPIC);
    const [notification] = notifications([{ alertname: 'HighCPU', host: 'web-1', severity: 'critical' }]);
    if (!notification) throw new Error('the dispatcher sent nothing');

    // Act
    const messageId = await notifier.publish(notification);

    // Assess
    expect(messageId).toBe('sns-1');
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.TopicArn).toBe(TOPIC);
    expect(JSON.parse(input?.Message ?? '')).toEqual(notification.message);
    expect(input?.Subject).toBe('[FIRING:1] HighCPU web-1');
    expect(input?.MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'critical' },
      status: { DataType: 'String', StringValue: 'firing' },
      group: { DataType: 'String', StringValue: notification.message.groupKey },
      receiver: { DataType: 'String', StringValue: 'pager' },
      notification_id: { DataType: 'String', StringValue: notification.id },
    });
  });

  it('lets a publish error propagate, so the outbox keeps the notification', async () => {
    // Prepare
    sns.on(PublishCommand).rejects(new InternalErrorException({ message: 'boom', $metadata: {} }));
    const notifier = new SnsNotifier(client, TOPIC);

    // Act
    const outcome = notifier.publish(withGroupLabels({ alertname: 'HighCPU' }));

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(InternalErrorException);
  });
});

describe('notificationSubject', () => {
  it('counts the firing alerts of the group, as Alertmanager’s default title', () => {
    // Prepare
    const notification = withGroupLabels({ alertname: 'HighCPU', host: 'web-1' }, 2);

    // Act
    const subject = notificationSubject(notification);

    // Assess
    expect(subject).toBe('[FIRING:2] HighCPU web-1');
  });

  it('says RESOLVED without a count once every alert of the group resolved', () => {
    // Prepare
    const correlator = new Correlator(ROUTES);
    const labels = { alertname: 'HighCPU', host: 'web-1' };
    correlator.send(firing(labels, T0));
    correlator.advance(MINUTE);
    correlator.send(resolved(labels, T0, correlator.now));
    correlator.advance(10 * MINUTE);
    const last = correlator.takeNotifications().at(-1);
    if (!last) throw new Error('the dispatcher sent nothing');

    // Act
    const subject = notificationSubject(last);

    // Assess
    expect(last.message.status).toBe('resolved');
    expect(subject).toBe('[RESOLVED] HighCPU web-1');
  });

  it('lists the group label values sorted by label name, as Alertmanager’s GroupLabels.SortedPairs', () => {
    // Prepare: the evaluator writes series labels before alertname, so groups see them in that order.
    const [notification] = notifications([{ host: 'web-1', alertname: 'HighCPU' }]);
    if (!notification) throw new Error('the dispatcher sent nothing');

    // Act
    const subject = notificationSubject(notification);

    // Assess
    expect(subject).toBe('[FIRING:1] HighCPU web-1');
  });

  it('replaces characters outside printable ASCII, so SNS accepts the subject', () => {
    // Prepare
    const notification = withGroupLabels({ alertname: 'Température', host: 'web\n1' });

    // Act
    const subject = notificationSubject(notification);

    // Assess
    expect(subject).toBe('[FIRING:1] Temp?rature web?1');
    expect(subject).toMatch(/^[\x20-\x7e]*$/);
  });

  it('caps the subject at 100 characters, marking the cut', () => {
    // Prepare
    const notification = withGroupLabels({ alertname: 'A'.repeat(150) });

    // Act
    const subject = notificationSubject(notification);

    // Assess
    expect(subject).toHaveLength(100);
    expect(subject.startsWith('[FIRING:1] AAAA')).toBe(true);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('keeps a subject of exactly 100 characters whole', () => {
    // Prepare
    const notification = withGroupLabels({ alertname: 'B'.repeat(100 - '[FIRING:1] '.length) });

    // Act
    const subject = notificationSubject(notification);

    // Assess
    expect(subject).toHaveLength(100);
    expect(subject.endsWith('B')).toBe(true);
  });
});
