import { Alias } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, UrlSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { StageConfig } from '../config';

export interface NotificationsProps {
  readonly config: StageConfig;
}

/**
 * The SNS topic incidents notify through. Messages carry Alertmanager's webhook payload and the
 * attributes `severity`, `status`, `group` and `receiver`, so subscriptions can filter.
 */
export class Notifications extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Pulseboard notifications',
      enforceSSL: true,
      // The AWS-managed SNS key: encryption at rest with no key to administer.
      masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    for (const email of props.config.notifications.emails) {
      this.topic.addSubscription(new EmailSubscription(email));
    }
    for (const url of props.config.notifications.httpsEndpoints) {
      if (!url.startsWith('https://')) throw new Error(`Notification endpoint ${url} must use https://`);
      this.topic.addSubscription(new UrlSubscription(url));
    }
  }
}
