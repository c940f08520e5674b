import { randomUUID } from 'node:crypto';
import { ListTopicsCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';

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

/** The SNS envelope a queue subscribed without raw delivery receives. */
export interface NotificationEnvelope {
  readonly MessageId: string;
  readonly Timestamp: string;
  readonly Message: string;
}

/**
 * Long-polls a queue from `subscribeToNotifications` until stopped: hands over each envelope with
 * the moment its batch arrived (`clock`, default `Date.now`), then deletes the batch. A failure
 * other than the stop goes to `onError` and ends the loop.
 */
export function receiveEnvelopes(
  sqs: SQSClient,
  queueUrl: string,
  onEnvelope: (envelope: NotificationEnvelope, receivedAt: number) => void,
  options: { readonly clock?: () => number; readonly onError?: (error: Error) => void } = {},
): { stop(): Promise<void> } {
  const clock = options.clock ?? Date.now;
  const stopping = new AbortController();
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        { abortSignal: stopping.signal },
      );
      const receivedAt = clock();
      for (const message of Messages) onEnvelope(JSON.parse(message.Body ?? '{}'), receivedAt);
      if (Messages.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: Messages.map((m, n) => ({ Id: `m${n}`, ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    }
  })().catch((error: unknown) => {
    if (!stopping.signal.aborted) options.onError?.(error as Error);
  });
  return {
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
