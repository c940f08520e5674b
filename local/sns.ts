/**
 * SNS and SQS for the local runtime: the template's queues, topics and SQS subscriptions (HTTP/S
 * ones are local/http-subscriptions.ts's),
 * provisioned through the SNS/SQS APIs on any endpoint: fauxqs in process by default, or an
 * external one such as LocalStack (`npm start -- --engines http://localhost:4566`).
 *
 * Order of start-up (the simplest that is correct):
 *   1. resolve names with a resolver that has no overrides (names never depend on queue URLs);
 *   2. create the queues (dead-letter queues first), topics and subscriptions;
 *   3. hand back `overrides` (the real queue URLs, queue and topic ARNs the engine issued) so
 *      the caller builds the final resolver, which the Lambda environments are resolved with.
 */
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import type { CfnTemplate, Resolver } from './types';

export interface LocalSns {
  /** e.g. http://127.0.0.1:41234 — serves both SNS and SQS. */
  readonly endpoint: string;
  /** Queue URL by the AWS::SQS::Queue's logical id. */
  readonly queueUrls: Readonly<Record<string, string>>;
  /** Resolver overrides for the template's queues and topics, as the engine named them. */
  readonly overrides: Readonly<Record<string, { ref: string; attrs: Record<string, string> }>>;
  /** Enqueues a message on a queue given by ARN or URL (e.g. an EventBridge target's dead-letter queue). */
  sendToQueue(queueArnOrUrl: string, body: string, attributes?: Record<string, string>): void;
  stop(): Promise<void>;
}

export interface StartSnsOptions {
  readonly template: CfnTemplate;
  /** A resolver for names and ARNs; it needs no overrides. */
  readonly resolver: Resolver;
  readonly region?: string;
  /** One-line engine messages, e.g. subscriptions that are not delivered locally. Default: console.warn. */
  readonly log?: (line: string) => void;
}

const QUEUE_ATTRIBUTES = [
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'MaximumMessageSize',
  'FifoQueue',
  'ContentBasedDeduplication',
] as const;

/** The last `:`-separated part of an ARN: a topic or queue name. */
function arnName(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}

/** Topic and queue attributes are strings on the wire; policies may arrive as objects. */
function attr(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Starts fauxqs on a free loopback port and provisions the template's messaging resources in it. */
export async function startSns(opts: StartSnsOptions): Promise<LocalSns> {
  const server = await startFauxqs({ port: 0, logger: false, defaultRegion: opts.region ?? 'us-east-1' });
  try {
    const messaging = await provisionMessaging({ ...opts, endpoint: server.address });
    return {
      ...messaging,
      stop: async () => {
        await messaging.stop();
        await server.stop();
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/**
 * Creates the template's queues, topics and SQS subscriptions on an SNS/SQS endpoint through the
 * AWS SDK, so the same code provisions fauxqs and LocalStack. `stop()` releases the clients only;
 * the engine belongs to whoever started it.
 */
export async function provisionMessaging(
  opts: StartSnsOptions & { readonly endpoint: string },
): Promise<LocalSns> {
  const { template, resolver, endpoint } = opts;
  const region = opts.region ?? 'us-east-1';
  const log = opts.log ?? ((line: string) => console.warn(line));
  const clientConfig = { endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const sqs = new SQSClient(clientConfig);
  const sns = new SNSClient(clientConfig);
  try {
    const queueUrls: Record<string, string> = {};
    const overrides: Record<string, { ref: string; attrs: Record<string, string> }> = {};
    const queueByName = new Map<string, string>();
    const resources = Object.entries(template.Resources);

    // Dead-letter queues first: a RedrivePolicy names its DLQ by the ARN fauxqs issued.
    const queues = resources
      .filter(([, res]) => res.Type === 'AWS::SQS::Queue')
      .sort(
        ([, a], [, b]) =>
          Number(a.Properties?.RedrivePolicy !== undefined) -
          Number(b.Properties?.RedrivePolicy !== undefined),
      );
    for (const [id, res] of queues) {
      const name = resolver.resolveString({ 'Fn::GetAtt': [id, 'QueueName'] });
      const p = (resolver.resolve(res.Properties ?? {}) ?? {}) as Record<string, unknown>;
      const attributes: Record<string, string> = {};
      for (const key of QUEUE_ATTRIBUTES) {
        const v = attr(p[key]);
        if (v !== undefined) attributes[key] = v;
      }
      const redrive = p.RedrivePolicy as { deadLetterTargetArn?: string } | undefined;
      if (redrive?.deadLetterTargetArn) {
        const dlqName = arnName(redrive.deadLetterTargetArn);
        const dlqArn = Object.values(overrides).find((o) => o.attrs.QueueName === dlqName)?.attrs.Arn;
        attributes.RedrivePolicy = JSON.stringify({
          ...redrive,
          deadLetterTargetArn: dlqArn ?? redrive.deadLetterTargetArn,
        });
      }
      const { QueueUrl: issuedUrl = '' } = await sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
      );
      const queueUrl = onEndpoint(issuedUrl, endpoint);
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
      );
      const queueArn = Attributes?.QueueArn ?? '';
      queueUrls[id] = queueUrl;
      queueByName.set(name, queueUrl);
      overrides[id] = { ref: queueUrl, attrs: { QueueUrl: queueUrl, Arn: queueArn, QueueName: name } };
    }

    const topicArnByName = new Map<string, string>();
    for (const [id, res] of resources) {
      if (res.Type !== 'AWS::SNS::Topic') continue;
      const name = resolver.resolveString({ 'Fn::GetAtt': [id, 'TopicName'] });
      const p = (res.Properties ?? {}) as Record<string, unknown>;
      const attributes: Record<string, string> = {};
      if (p.FifoTopic !== undefined) attributes.FifoTopic = String(resolver.resolve(p.FifoTopic));
      if (p.ContentBasedDeduplication !== undefined) {
        attributes.ContentBasedDeduplication = String(resolver.resolve(p.ContentBasedDeduplication));
      }
      const { TopicArn: topicArn = '' } = await sns.send(
        new CreateTopicCommand({ Name: name, Attributes: attributes }),
      );
      topicArnByName.set(name, topicArn);
      overrides[id] = { ref: topicArn, attrs: { TopicArn: topicArn, TopicName: name } };
    }

    for (const [id, res] of resources) {
      if (res.Type !== 'AWS::SNS::Subscription') continue;
      const p = (resolver.resolve(res.Properties ?? {}) ?? {}) as Record<string, unknown>;
      const protocol = String(p.Protocol ?? '').toLowerCase();
      const topic = arnName(String(p.TopicArn ?? ''));
      const endpoint = String(p.Endpoint ?? '');
      // HTTP and HTTPS subscriptions are delivered by local/http-subscriptions.ts.
      if (protocol === 'http' || protocol === 'https') continue;
      if (protocol !== 'sqs') {
        log(
          `SNS subscription ${id} (${protocol} → ${endpoint}) is not delivered locally: the notification console shows what it would receive`,
        );
        continue;
      }
      const queue = arnName(endpoint);
      if (!topicArnByName.has(topic) || !queueByName.has(queue)) {
        log(
          `SNS subscription ${id} names a topic or queue outside this template (${topic} → ${queue}); skipped`,
        );
        continue;
      }
      const attributes: Record<string, string> = {};
      const raw = attr(p.RawMessageDelivery);
      if (raw !== undefined) attributes.RawMessageDelivery = raw;
      const filter = attr(p.FilterPolicy);
      if (filter !== undefined) attributes.FilterPolicy = filter;
      const scope = attr(p.FilterPolicyScope);
      if (scope !== undefined) attributes.FilterPolicyScope = scope;
      const queueArn =
        Object.values(overrides).find((o) => o.attrs.QueueName === queue)?.attrs.Arn ?? endpoint;
      await sns.send(
        new SubscribeCommand({
          TopicArn: topicArnByName.get(topic),
          Protocol: 'sqs',
          Endpoint: queueArn,
          Attributes: attributes,
          ReturnSubscriptionArn: true,
        }),
      );
    }

    return {
      endpoint,
      queueUrls,
      overrides,
      sendToQueue(queueArnOrUrl, body, attributes = {}) {
        const name = queueArnOrUrl.startsWith('arn:')
          ? arnName(queueArnOrUrl)
          : queueArnOrUrl.slice(queueArnOrUrl.lastIndexOf('/') + 1);
        const queueUrl = queueByName.get(name) ?? queueArnOrUrl;
        sqs
          .send(
            new SendMessageCommand({
              QueueUrl: queueUrl,
              MessageBody: body,
              MessageAttributes: Object.fromEntries(
                Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
              ),
            }),
          )
          .catch((error: unknown) => log(`could not enqueue on ${name}: ${(error as Error).message}`));
      },
      stop: async () => {
        sqs.destroy();
        sns.destroy();
      },
    };
  } catch (err) {
    sqs.destroy();
    sns.destroy();
    throw err;
  }
}

/**
 * fauxqs issues queue URLs on a virtual host (`sqs.us-east-1.localhost:<port>`) that does not
 * resolve, and the SDK sends requests to a queue URL's host. The same path on the engine's own
 * endpoint names the same queue, so handlers get URLs they can reach, as on AWS.
 */
export function onEndpoint(queueUrl: string, endpoint: string): string {
  try {
    const url = new URL(queueUrl);
    const base = new URL(endpoint);
    url.protocol = base.protocol;
    url.host = base.host;
    return url.toString();
  } catch {
    return queueUrl;
  }
}
