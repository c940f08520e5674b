import { ListSubscriptionsByTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../../local/intrinsics';
import { formatNotificationLine, startNotificationConsole } from '../../../local/notification-console';
import { type LocalSns, startSns } from '../../../local/sns';
import type { CfnTemplate } from '../../../local/types';

const alertmanagerPayload = (status: 'firing' | 'resolved', extra: Record<string, unknown> = {}) => ({
  version: '4',
  groupKey: '{}:{alertname="HighCPU"}',
  truncatedAlerts: 0,
  status,
  receiver: 'default',
  groupLabels: { alertname: 'HighCPU' },
  commonLabels: { alertname: 'HighCPU', severity: 'critical' },
  commonAnnotations: { summary: 'CPU above 90%' },
  externalURL: 'http://127.0.0.1:3000',
  alerts: ['web-1', 'web-2'].map((host) => ({
    status,
    labels: { alertname: 'HighCPU', host, severity: 'critical' },
    annotations: { summary: 'CPU above 90%' },
    startsAt: '2025-01-01T00:00:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://127.0.0.1:3000/rules/r1',
    fingerprint: `fp-${host}`,
  })),
  ...extra,
});

/** The SQS body SNS delivers when raw delivery is off. */
const envelope = (message: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    Type: 'Notification',
    MessageId: 'abc-123',
    TopicArn: 'arn:aws:sns:us-east-1:000000000000:notifications',
    Message: message,
    Timestamp: '2025-01-01T00:00:00.000Z',
    ...extra,
  });

const attributes = (values: Record<string, string>) => ({
  MessageAttributes: Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, { Type: 'String', Value: v }]),
  ),
});

describe('formatNotificationLine', () => {
  it("shows an Alertmanager payload with Alertmanager's title, group, receiver, severity and the SNS message id", () => {
    // Act
    const line = formatNotificationLine(
      envelope(
        JSON.stringify(alertmanagerPayload('firing')),
        attributes({ severity: 'critical', status: 'firing', group: 'HighCPU', receiver: 'default' }),
      ),
    );
    // Assess
    expect(line).toBe(
      'notification [FIRING:2] {}:{alertname="HighCPU"} → receiver default (severity=critical) sns:abc-123',
    );
  });

  it('shows a resolved group as [RESOLVED], with the common severity and group labels when attributes and key are missing', () => {
    // Act
    const line = formatNotificationLine(
      envelope(JSON.stringify(alertmanagerPayload('resolved', { groupKey: undefined, receiver: 'oncall' }))),
    );
    // Assess
    expect(line).toBe(
      'notification [RESOLVED] {alertname="HighCPU"} → receiver oncall (severity=critical) sns:abc-123',
    );
  });

  it('counts only the firing alerts of a firing group and leaves out an unknown severity', () => {
    // Prepare
    const payload = alertmanagerPayload('firing', { commonLabels: { alertname: 'HighCPU' } });
    payload.alerts[1] = { ...payload.alerts[1], status: 'resolved' } as (typeof payload.alerts)[number];
    // Act
    const line = formatNotificationLine(envelope(JSON.stringify(payload)));
    // Assess
    expect(line).toBe('notification [FIRING:1] {}:{alertname="HighCPU"} → receiver default sns:abc-123');
  });

  it('shows any other message as its subject and first 200 characters on one line', () => {
    // Act
    const line = formatNotificationLine(
      envelope(`first line\nsecond\tline ${'x'.repeat(300)}`, { Subject: 'Hello' }),
    );
    // Assess
    expect(line).toBe(`notification "Hello" first line second line ${'x'.repeat(177)}… sns:abc-123`);
  });

  it('shows a body that is not an SNS envelope as it is', () => {
    expect(formatNotificationLine('plain text')).toBe('notification plain text');
    expect(formatNotificationLine(JSON.stringify(alertmanagerPayload('firing')))).toBe(
      'notification [FIRING:2] {}:{alertname="HighCPU"} → receiver default (severity=critical)',
    );
  });

  it('removes control characters, so a message cannot drive the terminal', () => {
    expect(formatNotificationLine(envelope('red \u001b[31malert\u0007'))).toBe(
      'notification red [31malert sns:abc-123',
    );
  });
});

describe('startNotificationConsole', { timeout: 15_000 }, () => {
  const region = 'us-east-1';
  const suffix = `${process.pid}-${Date.now()}`;
  const template: CfnTemplate = {
    Resources: {
      Alerts: { Type: 'AWS::SNS::Topic', Properties: { TopicName: `alerts-${suffix}` } },
      Audit: { Type: 'AWS::SNS::Topic', Properties: {} },
      Ordered: {
        Type: 'AWS::SNS::Topic',
        Properties: { TopicName: `ordered-${suffix}.fifo`, FifoTopic: true, ContentBasedDeduplication: true },
      },
    },
  };
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  let sns: LocalSns;
  let snsClient: SNSClient;
  let sqsClient: SQSClient;
  const resolver = () =>
    createResolver({ template, stackName: 'Console', region, overrides: { ...sns.overrides } });
  const topicArn = (id: string) => sns.overrides[id]?.ref as string;

  beforeAll(async () => {
    sns = await startSns({ template, resolver: createResolver({ template, stackName: 'Console' }), region });
    snsClient = new SNSClient({ endpoint: sns.endpoint, region, credentials });
    sqsClient = new SQSClient({ endpoint: sns.endpoint, region, credentials });
  });

  afterAll(async () => {
    snsClient?.destroy();
    sqsClient?.destroy();
    await sns?.stop();
  });

  async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('prints one line per notification published to any topic of the template, then deletes it', async () => {
    // Prepare
    const lines: string[] = [];
    const notifications = await startNotificationConsole({
      template,
      resolver: resolver(),
      endpoint: sns.endpoint,
      region,
      queueName: `console-${suffix}`,
      log: (line) => lines.push(line),
    });
    try {
      // Act
      const alert = await snsClient.send(
        new PublishCommand({
          TopicArn: topicArn('Alerts'),
          Message: JSON.stringify(alertmanagerPayload('firing')),
          MessageAttributes: {
            severity: { DataType: 'String', StringValue: 'critical' },
            status: { DataType: 'String', StringValue: 'firing' },
            group: { DataType: 'String', StringValue: 'HighCPU' },
            receiver: { DataType: 'String', StringValue: 'default' },
          },
        }),
      );
      const audit = await snsClient.send(
        new PublishCommand({ TopicArn: topicArn('Audit'), Message: 'rule r1 changed', Subject: 'Audit' }),
      );
      const ordered = await snsClient.send(
        new PublishCommand({ TopicArn: topicArn('Ordered'), Message: 'in order', MessageGroupId: 'g1' }),
      );
      await waitFor(() => lines.length === 3, 'three notification lines');
      // Assess
      expect(lines.sort()).toEqual(
        [
          `notification [FIRING:2] {}:{alertname="HighCPU"} → receiver default (severity=critical) sns:${alert.MessageId}`,
          `notification "Audit" rule r1 changed sns:${audit.MessageId}`,
          `notification in order sns:${ordered.MessageId}`,
        ].sort(),
      );
      expect(notifications.topicArns).toEqual([topicArn('Alerts'), topicArn('Audit'), topicArn('Ordered')]);
      for (const queueUrl of notifications.queueUrls) {
        await waitFor(async () => {
          const { Attributes = {} } = await sqsClient.send(
            new GetQueueAttributesCommand({
              QueueUrl: queueUrl,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
            }),
          );
          return (
            Attributes.ApproximateNumberOfMessages === '0' &&
            Attributes.ApproximateNumberOfMessagesNotVisible === '0'
          );
        }, 'the notifications to be deleted');
      }
    } finally {
      await notifications.stop();
    }
  });

  it('stop() unsubscribes its queues from the topics and deletes them', async () => {
    // Prepare
    const notifications = await startNotificationConsole({
      template,
      resolver: resolver(),
      endpoint: sns.endpoint,
      region,
      queueName: `stopping-${suffix}`,
      log: () => {},
    });
    // Act
    await notifications.stop();
    // Assess
    const { QueueUrls = [] } = await sqsClient.send(
      new ListQueuesCommand({ QueueNamePrefix: `stopping-${suffix}` }),
    );
    expect(QueueUrls).toEqual([]);
    const { Subscriptions = [] } = await snsClient.send(
      new ListSubscriptionsByTopicCommand({ TopicArn: topicArn('Alerts') }),
    );
    expect(Subscriptions.filter((s) => s.Endpoint?.includes(`stopping-${suffix}`))).toEqual([]);
  });

  it('creates no queue when the template has no topics', async () => {
    // Act
    const notifications = await startNotificationConsole({
      template: { Resources: {} },
      resolver: createResolver({ template: { Resources: {} }, stackName: 'Empty' }),
      endpoint: sns.endpoint,
      region,
      queueName: `empty-${suffix}`,
      log: () => {},
    });
    await notifications.stop();
    // Assess
    expect(notifications.queueUrls).toEqual([]);
    const { QueueUrls = [] } = await sqsClient.send(
      new ListQueuesCommand({ QueueNamePrefix: `empty-${suffix}` }),
    );
    expect(QueueUrls).toEqual([]);
  });
});
