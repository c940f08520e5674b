import { createHash } from 'node:crypto';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { type CfnSubscription, Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, UrlSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { SubscriptionKind } from '../alertmanager-config';
import type { StageConfig } from '../config';

const PROTOCOLS: Record<SubscriptionKind, SubscriptionProtocol> = {
  email: SubscriptionProtocol.EMAIL,
  https: SubscriptionProtocol.HTTPS,
  http: SubscriptionProtocol.HTTP,
};

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
    const unfiltered = new Set([
      ...props.config.notifications.emails,
      ...props.config.notifications.httpsEndpoints,
    ]);
    for (const target of props.config.notifications.receivers ?? []) {
      if (unfiltered.has(target.endpoint)) {
        throw new Error(`${target.endpoint} is both a stage subscription and an alertmanager.yml receiver`);
      }
      // Named by the endpoint, not its position: reordering receivers must not replace (and so
      // un-confirm) a subscription.
      const id = createHash('sha256')
        .update(`${target.protocol} ${target.endpoint}`)
        .digest('hex')
        .slice(0, 12);
      const subscription = new Subscription(this, `Receiver${id}`, {
        topic: this.topic,
        protocol: PROTOCOLS[target.protocol],
        endpoint: target.endpoint,
        rawMessageDelivery: target.rawMessageDelivery || undefined,
      });
      // Set on the L1 resource: the L2 filter type cannot express `$or`, which a shared endpoint
      // with both send_resolved settings needs.
      (subscription.node.defaultChild as CfnSubscription).filterPolicy = target.filterPolicy;
    }
  }
}
