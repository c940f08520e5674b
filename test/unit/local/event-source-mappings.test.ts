import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  batchItemFailures,
  type LocalEventSourceMappings,
  type SqsRecord,
  type StartEventSourceMappingsOptions,
  startEventSourceMappings,
} from '../../../local/event-source-mappings';
import { createResolver } from '../../../local/intrinsics';
import { type LocalSns, startSns } from '../../../local/sns';
import type { CfnResource, CfnTemplate, FunctionInvoker, InvokeOutcome } from '../../../local/types';

const region = 'us-east-1';
const suffix = `${process.pid}-${Date.now()}`;
const queue = (name: string, extra: Record<string, unknown> = {}): CfnResource => ({
  Type: 'AWS::SQS::Queue',
  // A 1 s visibility timeout makes failed batches come back quickly.
  Properties: { QueueName: `${name}-${suffix}`, VisibilityTimeout: 1, ...extra },
});
const QUEUES = [
  'Deliveries',
  'Delayed',
  'Retried',
  'Partial',
  'Filtered',
  'Reappearing',
  'Off',
  'On',
  'Stopping',
  'Abandoned',
];

const base: CfnTemplate = {
  Resources: {
    Worker: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: `worker-${suffix}`, Timeout: 1 } },
    ...Object.fromEntries(QUEUES.map((id) => [id, queue(id.toLowerCase())])),
    // Longer than the batching window, so a message gathered early stays hidden until the batch is sent.
    Windowed: queue('windowed', { VisibilityTimeout: 30 }),
    PoisonDlq: queue('poison-dlq'),
    Poison: queue('poison', {
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['PoisonDlq', 'Arn'] }, maxReceiveCount: 2 },
    }),
  },
};

/** An AWS::Lambda::EventSourceMapping from a queue of the template to Worker. */
const mapping = (queueId: string, extra: Record<string, unknown> = {}): CfnResource => ({
  Type: 'AWS::Lambda::EventSourceMapping',
  Properties: {
    EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
    FunctionName: { Ref: 'Worker' },
    ...extra,
  },
});

interface Call {
  readonly ref: string;
  readonly records: SqsRecord[];
  /** Date.now() when the invocation started. */
  readonly at: number;
}

/** A FunctionInvoker that records each call and answers with `behaviour`. */
function fakeInvoker(
  behaviour: (records: SqsRecord[], call: number) => Promise<InvokeOutcome> | InvokeOutcome,
) {
  const calls: Call[] = [];
  const invoker: FunctionInvoker = {
    invoke: async (ref, event) => {
      const records = (event as { Records: SqsRecord[] }).Records;
      calls.push({ ref, records, at: Date.now() });
      return behaviour(records, calls.length);
    },
  };
  return { invoker, calls, bodies: () => calls.flatMap((c) => c.records.map((r) => r.body)) };
}

const ok: InvokeOutcome = { kind: 'ok', payload: null };

/** Polls `condition` until it holds, failing after `timeoutMs`. */
async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

let sns: LocalSns;
let sqs: SQSClient;
let running: LocalEventSourceMappings | undefined;
const logs: string[] = [];

beforeAll(async () => {
  sns = await startSns({
    template: base,
    resolver: createResolver({ template: base, stackName: 'Esm' }),
    region,
  });
  sqs = new SQSClient({
    endpoint: sns.endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterEach(async () => {
  await running?.stop();
  running = undefined;
  logs.length = 0;
});

afterAll(async () => {
  sqs?.destroy();
  await sns?.stop();
});

/** Starts the pollers for the base template plus `mappings`, against the shared fauxqs. */
function start(
  mappings: Record<string, CfnResource>,
  invoker: FunctionInvoker,
  extra: Partial<StartEventSourceMappingsOptions> = {},
): LocalEventSourceMappings {
  const template: CfnTemplate = { Resources: { ...base.Resources, ...mappings } };
  running = startEventSourceMappings({
    template,
    resolver: createResolver({ template, stackName: 'Esm', region, overrides: { ...sns.overrides } }),
    invoker,
    endpoint: sns.endpoint,
    queueUrls: sns.queueUrls,
    region,
    log: (line) => logs.push(line),
    ...extra,
  });
  return running;
}

const urlOf = (id: string) => sns.queueUrls[id] as string;
const arnOf = (id: string) => sns.overrides[id]?.attrs.Arn as string;

async function queueCounts(id: string) {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: urlOf(id),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

async function isEmpty(id: string) {
  const { visible, inFlight } = await queueCounts(id);
  return visible === 0 && inFlight === 0;
}

describe('SQS event source mappings', { timeout: 20_000 }, () => {
  it('delivers a message to the mapped function as an AWS SQS event and deletes it on success', async () => {
    // Prepare
    const fn = fakeInvoker(() => ok);
    start({ Mapping: mapping('Deliveries') }, fn.invoker);
    // Act
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: urlOf('Deliveries'),
        MessageBody: '{"job":"rollup"}',
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'rollup' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from('hi') },
        },
      }),
    );
    await waitFor(() => fn.calls.length === 1, 'the invocation');
    // Assess
    expect(fn.calls[0]?.ref).toBe('Worker');
    expect(fn.calls[0]?.records).toEqual([
      {
        messageId: sent.MessageId,
        receiptHandle: expect.any(String),
        body: '{"job":"rollup"}',
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: expect.stringMatching(/^\d{13}$/),
          SenderId: expect.any(String),
          ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
        },
        messageAttributes: {
          kind: { stringValue: 'rollup', stringListValues: [], binaryListValues: [], dataType: 'String' },
          blob: {
            binaryValue: Buffer.from('hi').toString('base64'),
            stringListValues: [],
            binaryListValues: [],
            dataType: 'Binary',
          },
        },
        md5OfMessageAttributes: sent.MD5OfMessageAttributes,
        md5OfBody: sent.MD5OfMessageBody,
        eventSource: 'aws:sqs',
        eventSourceARN: arnOf('Deliveries'),
        awsRegion: region,
      },
    ]);
    await waitFor(() => isEmpty('Deliveries'), 'the message to be deleted');
  });

  it('holds a message sent with DelaySeconds until its delay has passed', async () => {
    // Prepare
    const fn = fakeInvoker(() => ok);
    start({ Mapping: mapping('Delayed') }, fn.invoker);
    // Act
    await sqs.send(
      new SendMessageCommand({ QueueUrl: urlOf('Delayed'), MessageBody: 'later', DelaySeconds: 2 }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: urlOf('Delayed'), MessageBody: 'now' }));
    await waitFor(() => fn.bodies().includes('later'), 'the delayed message');
    // Assess
    expect(fn.bodies()).toEqual(['now', 'later']);
    const later = fn.calls.find((c) => c.records[0]?.body === 'later');
    const sentAt = Number(later?.records[0]?.attributes.SentTimestamp);
    expect(
      Number(later?.records[0]?.attributes.ApproximateFirstReceiveTimestamp) - sentAt,
    ).toBeGreaterThanOrEqual(2000);
    expect((later?.at ?? 0) - sentAt).toBeGreaterThanOrEqual(2000);
  });

  it('leaves a failed or timed-out batch in the queue, so it is redelivered after the visibility timeout', async () => {
    // Prepare
    const outcomes: InvokeOutcome[] = [
      { kind: 'error', errorType: 'Error', errorMessage: 'boom' },
      { kind: 'timeout' },
      ok,
    ];
    const fn = fakeInvoker((_, call) => outcomes[call - 1] ?? ok);
    start({ Mapping: mapping('Retried') }, fn.invoker);
    // Act
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: urlOf('Retried'), MessageBody: 'flaky' }));
    await waitFor(() => fn.calls.length === 3, 'three deliveries');
    // Assess
    expect(
      fn.calls.map((c) => [c.records[0]?.messageId, c.records[0]?.attributes.ApproximateReceiveCount]),
    ).toEqual([
      [sent.MessageId, '1'],
      [sent.MessageId, '2'],
      [sent.MessageId, '3'],
    ]);
    expect(logs.some((l) => l.includes('boom'))).toBe(true);
    await waitFor(() => isEmpty('Retried'), 'the message to be deleted after the successful delivery');
  });

  it("moves a message that keeps failing to the queue's dead-letter queue after maxReceiveCount receives", async () => {
    // Prepare
    const fn = fakeInvoker(() => ({ kind: 'error', errorType: 'Error', errorMessage: 'poison' }));
    start({ Mapping: mapping('Poison') }, fn.invoker);
    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl: urlOf('Poison'), MessageBody: 'bad' }));
    await waitFor(async () => (await queueCounts('PoisonDlq')).visible === 1, 'the message on the DLQ');
    // Assess
    expect(fn.calls.map((c) => c.records[0]?.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(await isEmpty('Poison')).toBe(true);
  });

  it('with ReportBatchItemFailures deletes the successful messages and redelivers only the reported ones', async () => {
    // Prepare
    const fn = fakeInvoker((records) => ({
      kind: 'ok',
      payload: {
        batchItemFailures: records
          .filter((r) => r.body === 'b' && r.attributes.ApproximateReceiveCount === '1')
          .map((r) => ({ itemIdentifier: r.messageId })),
      },
    }));
    start(
      { Mapping: mapping('Partial', { FunctionResponseTypes: ['ReportBatchItemFailures'] }) },
      fn.invoker,
    );
    // Act
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: urlOf('Partial'),
        Entries: ['a', 'b', 'c'].map((body) => ({ Id: body, MessageBody: body })),
      }),
    );
    await waitFor(() => fn.bodies().filter((b) => b === 'b').length === 2, 'the failed message to come back');
    await waitFor(() => isEmpty('Partial'), 'every message to be deleted');
    // Assess
    expect(fn.bodies().sort()).toEqual(['a', 'b', 'b', 'c']);
  });

  it('gathers one batch over MaximumBatchingWindowInSeconds, up to BatchSize', async () => {
    // Prepare
    const fn = fakeInvoker(() => ok);
    start({ Mapping: mapping('Windowed', { BatchSize: 3, MaximumBatchingWindowInSeconds: 2 }) }, fn.invoker, {
      maxPollersPerMapping: 1,
    });
    // Act
    for (const body of ['x', 'y', 'z', 'next']) {
      await sqs.send(new SendMessageCommand({ QueueUrl: urlOf('Windowed'), MessageBody: body }));
    }
    await waitFor(() => fn.bodies().includes('next'), 'the fourth message');
    // Assess
    expect(fn.calls.map((c) => c.records.map((r) => r.body))).toEqual([['x', 'y', 'z'], ['next']]);
  });

  it('keeps one record per message when its visibility timeout runs out during the batching window', async () => {
    // Prepare: the 1 s visibility timeout is shorter than the 3 s window, so the message comes back mid-window.
    const fn = fakeInvoker(() => ok);
    start(
      { Mapping: mapping('Reappearing', { BatchSize: 5, MaximumBatchingWindowInSeconds: 3 }) },
      fn.invoker,
      {
        maxPollersPerMapping: 1,
      },
    );
    // Act
    const sent = await sqs.send(
      new SendMessageCommand({ QueueUrl: urlOf('Reappearing'), MessageBody: 'once' }),
    );
    await waitFor(() => fn.calls.length === 1, 'the batch');
    // Assess
    const records = fn.calls[0]?.records ?? [];
    expect(records.map((r) => r.messageId)).toEqual([sent.MessageId]);
    expect(Number(records[0]?.attributes.ApproximateReceiveCount)).toBeGreaterThanOrEqual(2);
    await waitFor(() => isEmpty('Reappearing'), 'the message to be deleted with its newest receipt handle');
  });

  it('deletes messages that match none of the FilterCriteria patterns without invoking the function', async () => {
    // Prepare
    const fn = fakeInvoker(() => ok);
    const Pattern = JSON.stringify({ body: { kind: ['keep'] } });
    start({ Mapping: mapping('Filtered', { FilterCriteria: { Filters: [{ Pattern }] } }) }, fn.invoker);
    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl: urlOf('Filtered'), MessageBody: '{"kind":"drop"}' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: urlOf('Filtered'), MessageBody: 'not json' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: urlOf('Filtered'), MessageBody: '{"kind":"keep"}' }));
    await waitFor(() => fn.calls.length === 1, 'the matching message');
    await waitFor(() => isEmpty('Filtered'), 'every message to be deleted');
    // Assess
    expect(fn.bodies()).toEqual(['{"kind":"keep"}']);
  });

  it('does not poll the queue of a disabled mapping', async () => {
    // Prepare
    const fn = fakeInvoker(() => ok);
    const esm = start(
      { OffMapping: mapping('Off', { Enabled: false }), OnMapping: mapping('On') },
      fn.invoker,
    );
    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl: urlOf('Off'), MessageBody: 'off' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: urlOf('On'), MessageBody: 'on' }));
    await waitFor(() => fn.calls.length === 1, 'the enabled mapping to deliver');
    await esm.stop();
    // Assess
    expect(esm.mappings.map((m) => m.logicalId)).toEqual(['OnMapping']);
    expect(fn.bodies()).toEqual(['on']);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: urlOf('Off'),
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    expect(Messages.map((m) => [m.Body, m.Attributes?.ApproximateReceiveCount])).toEqual([['off', '1']]);
  });

  it('logs once and skips a mapping whose queue or function is not in the template, or whose source is not SQS', async () => {
    // Prepare
    const fn = fakeInvoker(() => ok);
    // Act
    const esm = start(
      {
        ForeignQueue: mapping('Deliveries', {
          EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:elsewhere',
        }),
        ForeignFunction: mapping('Deliveries', { FunctionName: 'someone-elses-function' }),
        Stream: mapping('Deliveries', {
          EventSourceArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024',
        }),
      },
      fn.invoker,
    );
    // Assess
    expect(esm.mappings).toEqual([]);
    expect(logs).toEqual([
      expect.stringMatching(/ForeignQueue reads queue elsewhere, which is not in this template/),
      expect.stringMatching(
        /ForeignFunction invokes function someone-elses-function, which is not in this template/,
      ),
      expect.stringMatching(/Stream .* is not polled locally: only SQS sources are/),
    ]);
  });

  it('stop() ends a pending long poll without waiting for it', async () => {
    // Prepare: a 20 s long poll; the test's own 10 s timeout fails if stop() waited for it.
    const fn = fakeInvoker(() => ok);
    const esm = start({ Mapping: mapping('Stopping') }, fn.invoker, { waitTimeSeconds: 20 });
    await sqs.send(new SendMessageCommand({ QueueUrl: urlOf('Stopping'), MessageBody: 'first' }));
    await waitFor(() => fn.calls.length === 1, 'the poller to be running');
    await waitFor(() => isEmpty('Stopping'), 'the poller to go back to polling');
    // Act
    await esm.stop();
    // Assess
    expect(fn.bodies()).toEqual(['first']);
  }, 10_000);

  it('stop() abandons a running batch, leaving its message in the queue', async () => {
    // Prepare
    let finish: (outcome: InvokeOutcome) => void = () => {};
    const fn = fakeInvoker(
      () =>
        new Promise<InvokeOutcome>((resolve) => {
          finish = resolve;
        }),
    );
    const esm = start({ Mapping: mapping('Abandoned') }, fn.invoker);
    await sqs.send(new SendMessageCommand({ QueueUrl: urlOf('Abandoned'), MessageBody: 'slow' }));
    await waitFor(() => fn.calls.length === 1, 'the invocation to start');
    // Act
    await esm.stop();
    finish(ok);
    await new Promise((resolve) => setImmediate(resolve));
    // Assess: not deleted; it reappears after the visibility timeout.
    const { visible, inFlight } = await queueCounts('Abandoned');
    expect(visible + inFlight).toBe(1);
  });
});

describe('batchItemFailures', () => {
  const ids = ['m1', 'm2', 'm3'];

  it('reads a null response, a response without the list and an empty list as full success', () => {
    expect(batchItemFailures(null, ids)).toEqual(new Set());
    expect(batchItemFailures({}, ids)).toEqual(new Set());
    expect(batchItemFailures({ batchItemFailures: null }, ids)).toEqual(new Set());
    expect(batchItemFailures({ batchItemFailures: [] }, ids)).toEqual(new Set());
  });

  it('returns the reported message ids', () => {
    expect(batchItemFailures({ batchItemFailures: [{ itemIdentifier: 'm2' }] }, ids)).toEqual(
      new Set(['m2']),
    );
  });

  it('fails the whole batch on an empty, null, unknown or misnamed identifier, or a malformed response', () => {
    for (const payload of [
      { batchItemFailures: [{ itemIdentifier: '' }] },
      { batchItemFailures: [{ itemIdentifier: null }] },
      { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] },
      { batchItemFailures: [{ itemId: 'm1' }] },
      { batchItemFailures: 'm1' },
      'done',
    ]) {
      expect(batchItemFailures(payload, ids)).toBe('all');
    }
  });
});
