import { randomUUID } from 'node:crypto';
import { ListTopicsCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

/**
 * A new queue subscribed to the stack's notifications topic on an SNS/SQS endpoint (fauxqs or
 * LocalStack): how tests and benchmarks read what the correlator published. `raw` delivers the
 * webhook body itself; otherwise each message is the SNS envelope (MessageId, Timestamp, attributes).
 */
export async function subscribeToNotifications(
  endpoint: string,
  options: { readonly name: string; readonly raw?: boolean },
): Promise<{ sqs: SQSClient; queueUrl: string }> {
  const config = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const sqs = new SQSClient(config);
  const sns = new SNSClient(config);
  try {
    const { QueueUrl: queueUrl = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: `${options.name}-${randomUUID().slice(0, 8)}` }),
    );
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const { Topics = [] } = await sns.send(new ListTopicsCommand({}));
    const topicArn = Topics.map((t) => t.TopicArn ?? '').find((arn) => arn.includes('Notifications'));
    if (!topicArn) throw new Error('No notifications topic on this endpoint');
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: Attributes?.QueueArn,
        Attributes: { RawMessageDelivery: options.raw ? 'true' : 'false' },
      }),
    );
    return { sqs, queueUrl };
  } catch (error) {
    sqs.destroy();
    throw error;
  } finally {
    sns.destroy();
  }
}
