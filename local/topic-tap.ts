/**
 * A local queue subscribed to SNS topics and polled until stopped: what the notification console
 * and the local HTTP delivery stand on. Everything goes through the SNS and SQS APIs, so fauxqs and
 * LocalStack behave alike.
 */
import { SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { pause } from './event-source-mappings';

/** The JSON SNS puts in an SQS message when raw delivery is off. */
export interface SnsEnvelope {
  readonly Type: string;
  readonly MessageId?: string;
  readonly TopicArn?: string;
  readonly Subject?: string;
  readonly Message: string;
  readonly Timestamp?: string;
  readonly MessageAttributes?: Record<string, { Type?: string; Value?: string }>;
}

/** What became of one message: handled (deleted), or to be received again after a delay. */
export type Verdict = 'done' | { readonly retryAfterSeconds: number };

export interface TopicTapOptions {
  /** The SNS and SQS endpoint. */
  readonly endpoint: string;
  readonly region: string;
  readonly queueName: string;
  /** A FIFO queue, as FIFO topics require (`.fifo` is appended to the name). */
  readonly fifo?: boolean;
  /** Subscriptions of the queue, each with its attributes (FilterPolicy, RawMessageDelivery, …). */
  readonly topics: readonly { readonly topicArn: string; readonly attributes?: Record<string, string> }[];
  /** Prefix of the tap's own log lines, e.g. `notifications`. */
  readonly label: string;
  readonly log: (line: string) => void;
  /** Long-poll wait of each ReceiveMessage, 1–20 s. Default 1, so `stop()` never waits long. */
  readonly waitTimeSeconds?: number;
  /** Pause after a failed ReceiveMessage. Default 1000 ms. */
  readonly errorBackoffMs?: number;
  /** One message, with its `ApproximateReceiveCount` attribute. */
  readonly handle: (message: Message) => Promise<Verdict>;
}

export interface TopicTap {
  readonly queueUrl: string;
  /** Stops polling, then unsubscribes and deletes the queue (best effort). */
  stop(): Promise<void>;
}

/** Creates the queue and its subscriptions, then polls; resolves once messages published afterwards are caught. */
export async function startTopicTap(opts: TopicTapOptions): Promise<TopicTap> {
  const { label, log } = opts;
  const waitTimeSeconds = Math.min(20, Math.max(1, Math.round(opts.waitTimeSeconds ?? 1)));
  const errorBackoffMs = opts.errorBackoffMs ?? 1000;
  const clientConfig = {
    endpoint: opts.endpoint,
    region: opts.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const sqs = new SQSClient(clientConfig);
  const sns = new SNSClient(clientConfig);
  let queueUrl = '';
  const subscriptionArns: string[] = [];

  async function cleanUp(): Promise<void> {
    for (const arn of subscriptionArns.splice(0)) {
      await sns
        .send(new UnsubscribeCommand({ SubscriptionArn: arn }))
        .catch((error: unknown) => log(`${label}: unsubscribe failed: ${(error as Error).message}`));
    }
    if (queueUrl) {
      await sqs
        .send(new DeleteQueueCommand({ QueueUrl: queueUrl }))
        .catch((error: unknown) => log(`${label}: queue not deleted: ${(error as Error).message}`));
    }
    sqs.destroy();
    sns.destroy();
  }

  try {
    ({ QueueUrl: queueUrl = '' } = await sqs.send(
      new CreateQueueCommand({
        QueueName: opts.fifo ? `${opts.queueName}.fifo` : opts.queueName,
        Attributes: opts.fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'true' } : {},
      }),
    ));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    for (const topic of opts.topics) {
      const { SubscriptionArn } = await sns.send(
        new SubscribeCommand({
          TopicArn: topic.topicArn,
          Protocol: 'sqs',
          Endpoint: Attributes?.QueueArn ?? '',
          Attributes: topic.attributes,
          ReturnSubscriptionArn: true,
        }),
      );
      if (SubscriptionArn) subscriptionArns.push(SubscriptionArn);
    }
  } catch (error) {
    await cleanUp();
    throw error;
  }

  const abort = new AbortController();
  const { signal } = abort;

  async function settle(messages: readonly Message[]): Promise<void> {
    const verdicts = await Promise.all(
      messages.map((message) =>
        opts.handle(message).catch((error: unknown): Verdict => {
          log(`${label}: ${(error as Error).message}`);
          return 'done';
        }),
      ),
    );
    const entries = messages.map((m, n) => ({
      Id: `m${n}`,
      ReceiptHandle: m.ReceiptHandle,
      verdict: verdicts[n],
    }));
    const done = entries.filter((e) => e.verdict === 'done');
    const later = entries.filter((e) => e.verdict !== 'done');
    if (done.length > 0) {
      const { Failed = [] } = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map(({ Id, ReceiptHandle }) => ({ Id, ReceiptHandle })),
        }),
      );
      for (const f of Failed) log(`${label}: delete failed: ${f.Code}: ${f.Message}`);
    }
    if (later.length > 0) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: later.map(({ Id, ReceiptHandle, verdict }) => ({
            Id,
            ReceiptHandle,
            VisibilityTimeout: typeof verdict === 'object' ? verdict.retryAfterSeconds : 0,
          })),
        }),
      );
    }
  }

  async function poll(): Promise<void> {
    let lastError: string | undefined;
    while (!signal.aborted) {
      try {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: signal },
        );
        lastError = undefined;
        if (Messages.length > 0) await settle(Messages);
      } catch (error) {
        if (signal.aborted) return;
        const message = (error as Error).message;
        if (message !== lastError) log(`${label}: receive failed: ${message}`);
        lastError = message;
        await pause(errorBackoffMs, signal);
      }
    }
  }

  const loop = poll();
  return {
    queueUrl,
    async stop() {
      abort.abort();
      await loop.catch(() => {});
      await cleanUp();
    },
  };
}
