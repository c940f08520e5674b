import { createHash } from 'node:crypto';
import { Duration, Validations } from 'aws-cdk-lib';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { type CfnSubscription, Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, UrlSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
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
 *
 * Every email and HTTP/S subscription has a dead-letter queue: when SNS gives up on an endpoint
 * (for HTTP/S, after its retries; at once on a 4xx-class refusal it will not retry), the
 * notification is kept for 14 days instead of discarded.
 */
export class Notifications extends Construct {
  readonly topic: Topic;
  /** Notifications SNS could not deliver; absent when the stage has no subscriptions. */
  readonly deadLetters?: Queue;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Pulseboard notifications',
      enforceSSL: true,
      // The AWS-managed SNS key: encryption at rest with no key to administer.
      masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    const { emails, httpsEndpoints, receivers = [] } = props.config.notifications;
    if (emails.length + httpsEndpoints.length + receivers.length === 0) return;
    // SQS-managed encryption: SNS can deliver to it without a customer-managed key.
    const deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetters = deadLetterQueue;
    // cdk-nag recognises dead-letter queues only in another queue's RedrivePolicy.
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is the dead-letter queue itself: every notification subscription's RedrivePolicy targets it.",
    });
    for (const email of emails) {
      this.topic.addSubscription(new EmailSubscription(email, { deadLetterQueue }));
    }
    for (const url of httpsEndpoints) {
      if (!url.startsWith('https://')) throw new Error(`Notification endpoint ${url} must use https://`);
      this.topic.addSubscription(new UrlSubscription(url, { deadLetterQueue }));
    }
    const unfiltered = new Set([...emails, ...httpsEndpoints]);
    for (const target of receivers) {
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
        deadLetterQueue,
      });
      // Set on the L1 resource: the L2 filter type cannot express `$or`, which a shared endpoint
      // with both send_resolved settings needs.
      (subscription.node.defaultChild as CfnSubscription).filterPolicy = target.filterPolicy;
    }
  }
}
