import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  afterAttempt,
  type HttpSubscription,
  httpSubscriptionsOf,
  snsHttpRequest,
  startHttpSubscriptions,
} from '../../../local/http-subscriptions';
import { createResolver } from '../../../local/intrinsics';
import { type LocalSns, startSns } from '../../../local/sns';
import type { CfnTemplate } from '../../../local/types';

const subscription: HttpSubscription = {
  id: 'Hook',
  topicArn: 'arn:aws:sns:us-east-1:000000000000:alerts',
  protocol: 'https',
  endpoint: 'https://hooks.example.org/x',
  raw: true,
  filterAttributes: {},
};
const envelope = {
  Type: 'Notification',
  MessageId: 'm-1',
  TopicArn: 'arn:aws:sns:us-east-1:000000000000:alerts',
  Message: '{"status":"firing"}',
  Timestamp: '2026-11-24T12:00:00.000Z',
};

describe('snsHttpRequest', () => {
  it('posts the message itself under raw delivery, with the x-amz-sns headers', () => {
    const request = snsHttpRequest(subscription, 'arn:sub', JSON.stringify(envelope));
    expect(request).toEqual({
      headers: {
        'content-type': 'text/plain; charset=UTF-8',
        'user-agent': 'Amazon Simple Notification Service Agent',
        'x-amz-sns-message-type': 'Notification',
        'x-amz-sns-message-id': 'm-1',
        'x-amz-sns-topic-arn': envelope.TopicArn,
        'x-amz-sns-subscription-arn': 'arn:sub',
        'x-amz-sns-rawdelivery': 'true',
      },
      body: '{"status":"firing"}',
    });
  });

  it('posts the JSON envelope otherwise', () => {
    const body = JSON.stringify(envelope);
    const request = snsHttpRequest({ ...subscription, raw: false }, 'arn:sub', body);
    expect(request.body).toBe(body);
    expect(request.headers).not.toHaveProperty('x-amz-sns-rawdelivery');
  });
});

describe('afterAttempt', () => {
  const retry = { retries: 3, delaySeconds: 20 };
  it.each([
    [{ status: 200 }, 1, 'done'],
    [{ status: 204 }, 4, 'done'],
    // SNS counts any answer below 500 as delivered: the endpoint got the message.
    [{ status: 404 }, 1, 'done'],
    [{ status: 500 }, 1, { retryAfterSeconds: 20 }],
    [{ status: 503 }, 3, { retryAfterSeconds: 20 }],
    [{ status: 503 }, 4, 'given-up'],
    [{ error: 'connect ECONNREFUSED' }, 2, { retryAfterSeconds: 20 }],
    [{ error: 'timeout' }, 4, 'given-up'],
  ] as const)('%o on attempt %i: %o', (outcome, attempt, verdict) => {
    expect(afterAttempt(outcome, attempt, retry)).toEqual(verdict);
  });
});

describe('startHttpSubscriptions, with fauxqs and an HTTP server', { timeout: 20_000 }, () => {
  const region = 'us-east-1';
  const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
  /** Answers for /flaky, in order; 200 once they run out. */
  const flakyAnswers = [500, 502];
  let server: Server;
  let sns: LocalSns;
  let client: SNSClient;
  let sqs: SQSClient;
  let template: CfnTemplate;

  const hook = (path: string, filter?: Record<string, unknown>, raw = true, deadLetters = false) => ({
    Type: 'AWS::SNS::Subscription',
    Properties: {
      TopicArn: { Ref: 'Alerts' },
      Protocol: 'http',
      Endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
      RawMessageDelivery: raw,
      ...(filter ? { FilterPolicy: filter } : {}),
      ...(deadLetters
        ? { RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['DeadLetters', 'Arn'] } } }
        : {}),
    },
  });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body });
        const down = req.url === '/down' || req.url === '/gone';
        const status = down ? 503 : req.url === '/flaky' ? (flakyAnswers.shift() ?? 200) : 200;
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    template = {
      Resources: {
        Alerts: { Type: 'AWS::SNS::Topic', Properties: { TopicName: `alerts-${process.pid}` } },
        Web: hook('/web', { receiver: ['web'] }),
        Everything: hook('/envelope', undefined, false),
        Flaky: hook('/flaky', { receiver: ['flaky'] }),
        Down: hook('/down', { receiver: ['down'] }, true, true),
        Gone: hook('/gone', { receiver: ['down'] }),
        DeadLetters: { Type: 'AWS::SQS::Queue', Properties: { QueueName: `dead-letters-${process.pid}` } },
        Mail: {
          Type: 'AWS::SNS::Subscription',
          Properties: { TopicArn: { Ref: 'Alerts' }, Protocol: 'email', Endpoint: 'a@example.org' },
        },
      },
    };
    sns = await startSns({
      template,
      resolver: createResolver({ template, stackName: 'Http' }),
      region,
      log: () => {},
    });
    const clientConfig = {
      endpoint: sns.endpoint,
      region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    };
    client = new SNSClient(clientConfig);
    sqs = new SQSClient(clientConfig);
  });

  afterAll(async () => {
    client?.destroy();
    sqs?.destroy();
    await sns?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  const waitFor = async (condition: () => boolean, what: string) => {
    const deadline = Date.now() + 15_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  const publish = (receiver: string, message: string) =>
    client.send(
      new PublishCommand({
        TopicArn: sns.overrides.Alerts?.ref,
        Message: message,
        MessageAttributes: { receiver: { DataType: 'String', StringValue: receiver } },
      }),
    );

  it('finds the HTTP and HTTPS subscriptions of a template, resolved', () => {
    const resolver = createResolver({ template, stackName: 'Http', overrides: { ...sns.overrides } });
    expect(httpSubscriptionsOf(template, resolver).map((s) => [s.id, s.raw, s.filterAttributes])).toEqual([
      ['Web', true, { FilterPolicy: '{"receiver":["web"]}' }],
      ['Everything', false, {}],
      ['Flaky', true, { FilterPolicy: '{"receiver":["flaky"]}' }],
      ['Down', true, { FilterPolicy: '{"receiver":["down"]}' }],
      ['Gone', true, { FilterPolicy: '{"receiver":["down"]}' }],
    ]);
    expect(httpSubscriptionsOf(template, resolver).find((s) => s.id === 'Down')?.deadLetterTargetArn).toBe(
      sns.overrides.DeadLetters?.attrs.Arn,
    );
  });

  it('POSTs each notification to the endpoints whose filter policy matches, retrying 5xx answers, then dead-lettering', async () => {
    // Prepare
    const lines: string[] = [];
    const delivery = await startHttpSubscriptions({
      template,
      resolver: createResolver({ template, stackName: 'Http', overrides: { ...sns.overrides } }),
      endpoint: sns.endpoint,
      region,
      log: (line) => lines.push(line),
      retry: { retries: 2, delaySeconds: 1 },
      sendToQueue: (arn, body, attributes) => sns.sendToQueue(arn, body, attributes),
    });
    try {
      // Act
      const web = await publish('web', '{"receiver":"web"}');
      await publish('flaky', '{"receiver":"flaky"}');
      await publish('down', '{"receiver":"down"}');

      // Assess: the raw message to its own endpoint, with SNS's headers.
      await waitFor(() => received.filter((r) => r.path === '/envelope').length === 3, 'three envelopes');
      const webHits = received.filter((r) => r.path === '/web');
      expect(webHits.map((r) => r.body)).toEqual(['{"receiver":"web"}']);
      expect(webHits[0]?.headers).toMatchObject({
        'x-amz-sns-message-type': 'Notification',
        'x-amz-sns-message-id': web.MessageId,
        'x-amz-sns-topic-arn': sns.overrides.Alerts?.ref,
        'x-amz-sns-rawdelivery': 'true',
        'content-type': 'text/plain; charset=UTF-8',
      });
      // Without raw delivery the body is the envelope, for every message (no filter policy).
      const envelopes = received.filter((r) => r.path === '/envelope').map((r) => JSON.parse(r.body));
      expect(envelopes.map((e) => [e.Type, e.Message]).sort()).toEqual([
        ['Notification', '{"receiver":"down"}'],
        ['Notification', '{"receiver":"flaky"}'],
        ['Notification', '{"receiver":"web"}'],
      ]);
      // 500, 502, then 200: delivered on the third attempt.
      await waitFor(() => received.filter((r) => r.path === '/flaky').length === 3, 'three /flaky attempts');
      // Always 503: three attempts (two retries), then the dead-letter queue, or dropped without one.
      await waitFor(
        () =>
          lines.some((l) =>
            l.includes('/down (Down) answered 503; moved to the dead-letter queue after 3 attempts'),
          ) && lines.some((l) => l.includes('/gone (Gone) answered 503; dropped after 3 attempts')),
        'both endpoints given up',
      );
      expect(received.filter((r) => r.path === '/down')).toHaveLength(3);
      expect(received.filter((r) => r.path === '/gone')).toHaveLength(3);
      expect(lines.filter((l) => l.includes('retrying'))).toHaveLength(6);
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: sns.queueUrls.DeadLetters,
          WaitTimeSeconds: 5,
          MessageAttributeNames: ['All'],
        }),
      );
      expect(Messages.map((m) => JSON.parse(m.Body ?? '{}').Message)).toEqual(['{"receiver":"down"}']);
      expect(Messages[0]?.MessageAttributes?.ErrorMessage?.StringValue).toMatch(/\/down answered 503$/);
    } finally {
      await delivery.stop();
    }
    // Nothing more arrives once stopped.
    const count = received.length;
    await publish('web', '{"after":"stop"}');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toHaveLength(count);
  });
});
