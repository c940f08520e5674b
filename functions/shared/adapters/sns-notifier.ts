import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification } from '../domain/alerting/dispatch/group';
import type { Notifier } from '../domain/alerting/stores';

/** SNS subjects are at most 100 printable ASCII characters. */
const MAX_SUBJECT = 100;

/**
 * Publishes a notification to the topic: the body is Alertmanager's webhook payload (version 4) as
 * JSON, so existing receivers work unchanged; the attributes `severity`, `status`, `group` and
 * `receiver` let subscriptions filter; `notification_id` lets a receiver drop the rare repeat
 * (delivery is at least once).
 */
export class SnsNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(notification: Notification): Promise<string> {
    const attributes: Record<string, string> = {
      ...notification.attributes,
      notification_id: notification.id,
    };
    const { MessageId } = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: notificationSubject(notification),
        Message: JSON.stringify(notification.message),
        MessageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
      }),
    );
    return MessageId ?? '';
  }
}

/** Alertmanager's default title, `[FIRING:2] HighCPU web-1`, made safe for an SNS subject (email). */
export function notificationSubject(notification: Notification): string {
  const { message } = notification;
  const firing = message.alerts.filter((alert) => alert.status === 'firing').length;
  const head = message.status === 'firing' ? `[FIRING:${firing}]` : '[RESOLVED]';
  const text = `${head} ${Object.values(message.groupLabels).join(' ')}`.trim();
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > MAX_SUBJECT ? `${ascii.slice(0, MAX_SUBJECT - 3)}...` : ascii;
}
